import type { RevocationRepository } from '../../../lib/store.js'
import { storeKey } from '../../../lib/store.js'

export type MemoryRevocations = RevocationRepository & { sweep (): void }

export function createMemoryRevocations (now: () => number): MemoryRevocations {
  const revoked = new Map<string, number>()
  return {
    async revoke (jti, expiresAt) {
      if (!revoked.has(storeKey(jti))) revoked.set(jti, expiresAt.getTime())
    },
    async isRevoked (jti) {
      const expires = revoked.get(storeKey(jti))
      return expires !== undefined && expires > now()
    },
    sweep () {
      const time = now()
      for (const [jti, expires] of revoked) if (expires <= time) revoked.delete(jti)
    }
  }
}
