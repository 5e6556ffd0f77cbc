import type { RefreshTokenRecord, RefreshTokenRepository } from '../../../lib/store.js'
import { DuplicateKeyError, storeKey } from '../../../lib/store.js'
import { dropOldest } from '../../../lib/capped.js'
import { copyRecord } from './copy.js'

export type MemoryRefreshTokens = RefreshTokenRepository & { sweep (): void }

/** Refresh tokens by hash, kept until their family ends (the twin of the MongoDB TTL index). */
export function createMemoryRefreshTokens (now: () => number, maxRecords = Infinity): MemoryRefreshTokens {
  const tokens = new Map<string, RefreshTokenRecord>()
  const live = (hash: string, at: number): RefreshTokenRecord | undefined => {
    const record = tokens.get(storeKey(hash))
    return record !== undefined && record.family_expires_at.getTime() > at ? record : undefined
  }
  return {
    async create (record) {
      if (live(record.hash, now()) !== undefined) throw new DuplicateKeyError('refresh token hash taken')
      tokens.delete(record.hash)
      tokens.set(record.hash, copyRecord(record))
      dropOldest(tokens, maxRecords)
    },
    async use (hash, at) {
      // Synchronous from lookup to mark: the event loop makes this the atomic update.
      const record = live(hash, at.getTime())
      if (record === undefined) return { outcome: 'unknown' }
      if (record.used_at !== undefined) return { outcome: 'reused', record: copyRecord(record) }
      if (record.expires_at <= at) return { outcome: 'unknown' }
      record.used_at = at
      return { outcome: 'fresh', record: copyRecord(record) }
    },
    async find (hash, at) {
      const record = live(hash, at.getTime())
      return record === undefined ? null : copyRecord(record)
    },
    sweep () {
      const time = now()
      for (const [hash, record] of tokens) if (record.family_expires_at.getTime() <= time) tokens.delete(hash)
    }
  }
}
