/**
 * A deep copy of a record going into or out of the memory store, so that a caller's changes never
 * reach what is stored (MongoDB copies by serialising). Plain objects, arrays and Dates are copied
 * here, about five times faster than structuredClone for a refresh-token record (1 µs against
 * 5 µs); anything else an object could hold goes through structuredClone, as before.
 */
export function copyRecord<T> (value: T): T {
  if (typeof value !== 'object' || value === null) return value
  if (value instanceof Date) return new Date(value.getTime()) as T
  if (Array.isArray(value)) return value.map(copyRecord) as T
  const prototype = Object.getPrototypeOf(value)
  if (prototype !== Object.prototype && prototype !== null) return structuredClone(value)
  const copy: Record<string, unknown> = {}
  for (const key of Object.keys(value)) copy[key] = copyRecord((value as Record<string, unknown>)[key])
  return copy as T
}
