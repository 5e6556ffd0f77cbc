import type { ReplayCache } from '../types.js'
import { storeKey } from '../types.js'

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
