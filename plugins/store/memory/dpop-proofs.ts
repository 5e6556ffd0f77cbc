import type { ReplayCache } from '../../../lib/store.js'
import { ExpiringKeys } from './expiring-keys.js'

export type MemoryReplayCache = ReplayCache & { sweep (): void }

export function createMemoryReplayCache (now: () => number): MemoryReplayCache {
  const seen = new ExpiringKeys(now)
  return {
    async use (key, expiresAt) {
      return seen.add(key, expiresAt)
    },
    sweep: () => seen.sweep()
  }
}
