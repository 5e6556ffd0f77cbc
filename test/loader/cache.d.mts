export function cacheEntry (prefix: string, extension: string, ...parts: string[]): string
export function readCached (entry: string): string | undefined
export function writeCached (entry: string, text: string): void
