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

/**
 * A copy of a log object in which every object-valued member that has one of `names` as its own
 * property has that value replaced by `censor`; the object itself is returned when nothing matches,
 * so a flat line (the access log) costs one pass over its members. It does what pino's `*.name`
 * redact paths do, without pino applying a wildcard stringifier to every value of every line.
 * Copies keep their prototype and every own property (an Error keeps its message and stack).
 */
export function censorNested (object: Record<string, unknown>, names: readonly string[], censor: string): Record<string, unknown> {
  let copy: Record<string, unknown> | undefined
  for (const key in object) {
    const value: unknown = object[key]
    if (value === null || typeof value !== 'object') continue
    let censored: object | undefined
    for (const name of names) {
      if (!Object.hasOwn(value, name)) continue
      censored ??= ownCopy(value)
      Object.defineProperty(censored, name, { value: censor, enumerable: Object.getOwnPropertyDescriptor(value, name)?.enumerable ?? true, writable: true, configurable: true })
    }
    if (censored === undefined) continue
    copy ??= Object.assign({}, object)
    copy[key] = censored
  }
  return copy ?? object
}

/**
 * The object's prototype and own properties, accessors read into plain values: an Error's `stack`
 * is an own accessor on Node 24 that only answers for the error it belongs to.
 */
function ownCopy (value: object): object {
  const descriptors = Object.getOwnPropertyDescriptors(value)
  for (const key of Reflect.ownKeys(descriptors)) {
    const descriptor = descriptors[key as keyof typeof descriptors]
    if (descriptor === undefined || (descriptor.get === undefined && descriptor.set === undefined)) continue
    try {
      descriptors[key as keyof typeof descriptors] = { value: Reflect.get(value, key), enumerable: descriptor.enumerable, writable: true, configurable: true }
    } catch {
      // A getter that throws keeps its descriptor: a log line must not fail because of what it logs.
    }
  }
  return Object.create(Object.getPrototypeOf(value), descriptors) as object
}
