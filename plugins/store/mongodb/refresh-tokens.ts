import type { Db } from 'mongodb'
import type { RefreshTokenRecord, RefreshTokenRepository } from '../../../lib/store.js'
import { storeKey } from '../../../lib/store.js'
import { guard } from './guard.js'

/**
 * `refresh_tokens`: unique by hash, removed by TTL when the family ends. A use is one
 * findOneAndUpdate on {hash, used_at absent, unexpired}: the server serialises concurrent uses,
 * so exactly one sees the token unspent.
 */
export function createMongoRefreshTokens (db: Db): RefreshTokenRepository {
  const tokens = db.collection<RefreshTokenRecord>('refresh_tokens')
  const projection = { _id: 0 } as const
  const find = async (hash: string, now: Date): Promise<RefreshTokenRecord | null> =>
    await guard(() => tokens.findOne({ hash: storeKey(hash), family_expires_at: { $gt: now } }, { projection }))
  return {
    async create (record) {
      await guard(() => tokens.insertOne({ ...record, hash: storeKey(record.hash) }))
    },
    async use (hash, now) {
      const spent = await guard(() => tokens.findOneAndUpdate(
        { hash: storeKey(hash), used_at: { $exists: false }, expires_at: { $gt: now }, family_expires_at: { $gt: now } },
        { $set: { used_at: now } },
        { projection, returnDocument: 'after' }
      ))
      if (spent !== null) return { outcome: 'fresh', record: spent }
      const record = await find(hash, now)
      return record?.used_at !== undefined ? { outcome: 'reused', record } : { outcome: 'unknown' }
    },
    find
  }
}
