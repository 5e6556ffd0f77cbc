/** Log-safe text: URLs, host:port pairs and IP addresses are replaced, and the text is bounded. */
export function scrub (text: string): string {
  return text
    .replace(/[a-z][a-z0-9+.-]*:\/\/[^\s'"]+/gi, '[url]')
    .replace(/\b(?:\d{1,3}\.){3}\d{1,3}(?::\d+)?\b/g, '[address]')
    .replace(/\b[a-z0-9-]+(?:\.[a-z0-9-]+)*:\d{2,5}\b/gi, '[address]')
    .slice(0, 300)
}

/** Removes the query of a URL path for logging: codes and tokens travel in some queries. */
export function pathOnly (url: string): string {
  const index = url.indexOf('?')
  return (index === -1 ? url : `${url.slice(0, index)}?[query]`).slice(0, 200)
}
