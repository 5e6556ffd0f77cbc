import type { AccessTokenRepository } from '../../../lib/store.js'
import { DuplicateKeyError } from '../../../lib/store.js'
import { ExpiringKeys } from './expiring-keys.js'

export type MemoryAccessTokens = AccessTokenRepository & { sweep (): void }

/** Issued tokens by jti, forgotten once they expire (the TTL index's job in MongoDB). */
export function createMemoryAccessTokens (now: () => number): MemoryAccessTokens {
  const issued = new ExpiringKeys(now)
  return {
    async record (token) {
      if (!issued.add(token.jti, token.expires_at)) throw new DuplicateKeyError('jti already recorded')
    },
    sweep: () => issued.sweep()
  }
}
