import type { ReplayCache } from '../../../lib/store.js'
import { storeKey } from '../../../lib/store.js'

export type MemoryReplayCache = ReplayCache & { sweep (): void }

export function createMemoryReplayCache (now: () => number): MemoryReplayCache {
  const seen = new Map<string, number>()
  return {
    async use (key, expiresAt) {
      const expires = seen.get(storeKey(key))
      if (expires !== undefined && expires > now()) return false
      seen.set(key, expiresAt.getTime())
      return true
    },
    sweep () {
      const time = now()
      for (const [key, expires] of seen) if (expires <= time) seen.delete(key)
    }
  }
}
