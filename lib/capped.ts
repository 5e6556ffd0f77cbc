/**
 * Holds a Map to at most `max` entries: past it, the oldest insertions go first (a Map iterates in
 * insertion order). How the embedded development store and the per-process caches (phone verdicts,
 * token header verdicts, compiled serializers) stay bounded instead of growing without end.
 */
export function dropOldest<K, V> (map: Map<K, V>, max: number): void {
  for (const key of map.keys()) {
    if (map.size <= max) return
    map.delete(key)
  }
}
