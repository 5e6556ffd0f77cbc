/**
 * Holds a Map to at most `max` entries: past it, the oldest insertions go first (a Map iterates in
 * insertion order). What the embedded development store does instead of growing without bound.
 */
export function dropOldest<K, V> (map: Map<K, V>, max: number): void {
  for (const key of map.keys()) {
    if (map.size <= max) return
    map.delete(key)
  }
}
