import type { RevocationRepository } from '../../../lib/store.js'
import { ExpiringKeys } from './expiring-keys.js'

export type MemoryRevocations = RevocationRepository & { sweep (): void }

export function createMemoryRevocations (now: () => number): MemoryRevocations {
  const revoked = new ExpiringKeys(now)
  return {
    async revoke (jti, expiresAt) {
      revoked.add(jti, expiresAt)
    },
    async isRevoked (...keys) {
      return keys.some((key) => revoked.isLive(key))
    },
    sweep: () => revoked.sweep()
  }
}
