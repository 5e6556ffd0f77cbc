import type { AccessTokenRecord, AccessTokenRepository } from '../../../lib/store.js'
import { DuplicateKeyError, storeKey } from '../../../lib/store.js'

export type MemoryAccessTokens = AccessTokenRepository & { sweep (): void }

/** Issued-token records by jti, forgotten once they expire (the TTL index's job in MongoDB). */
export function createMemoryAccessTokens (now: () => number): MemoryAccessTokens {
  const records = new Map<string, AccessTokenRecord>()
  return {
    async record (token) {
      if (records.has(storeKey(token.jti))) throw new DuplicateKeyError('jti already recorded')
      records.set(token.jti, structuredClone(token))
    },
    async find (jti) {
      const record = records.get(storeKey(jti))
      if (record === undefined || record.expires_at.getTime() <= now()) return null
      return structuredClone(record)
    },
    sweep () {
      const time = now()
      for (const [jti, record] of records) if (record.expires_at.getTime() <= time) records.delete(jti)
    }
  }
}
