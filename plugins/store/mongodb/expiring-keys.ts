import type { Db } from 'mongodb'
import { DuplicateKeyError, storeKey } from '../../../lib/store.js'
import { guard } from './guard.js'

export interface ExpiringKeys {
  /** Adds the key (with any other fields) unless it is live; false when it was. */
  add (key: string, expiresAt: Date, fields?: Record<string, unknown>): Promise<boolean>
  /** True when any of the keys is live. */
  isLive (...keys: string[]): Promise<boolean>
}

/**
 * Keys in one collection under uniqueUntilExpiry's indexes. One atomic upsert adds: an absent key
 * is inserted, an expired one the TTL monitor has not removed yet is renewed, and a live one makes
 * the insert collide on the unique index, which is the answer "already there".
 */
export function expiringKeys (db: Db, collection: string, field: string): ExpiringKeys {
  const keys = db.collection(collection)
  return {
    async add (key, expiresAt, fields = {}) {
      try {
        await guard(() => keys.updateOne(
          { [field]: storeKey(key), expires_at: { $lte: new Date() } },
          { $set: { ...fields, expires_at: expiresAt } },
          { upsert: true }
        ))
        return true
      } catch (error) {
        if (error instanceof DuplicateKeyError) return false
        throw error
      }
    },
    async isLive (...wanted) {
      const found = await guard(() => keys.findOne({ [field]: { $in: wanted.map(storeKey) }, expires_at: { $gt: new Date() } }, { projection: { _id: 1 } }))
      return found !== null
    }
  }
}
