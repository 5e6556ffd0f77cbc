import type { Db } from 'mongodb'
import { guard } from '../mongodb.js'
import type { ReplayCache } from '../types.js'
import { DuplicateKeyError, storeKey } from '../types.js'

export type MongoReplayCache = ReplayCache & { ensureIndexes (): Promise<void> }

interface SeenDocument {
  key: string
  expires_at: Date
}

export function createMongoReplayCache (db: Db): MongoReplayCache {
  const seen = db.collection<SeenDocument>('dpop_proofs')
  return {
    async ensureIndexes () {
      await seen.createIndexes([
        { key: { key: 1 }, name: 'key_unique', unique: true },
        { key: { expires_at: 1 }, name: 'expires_at_ttl', expireAfterSeconds: 0 }
      ])
    },
    async use (key, expiresAt) {
      // One atomic upsert: an absent key is inserted, an expired entry (not yet swept by the
      // TTL monitor) is renewed, a live entry makes the insert collide: that is a replay.
      try {
        await guard(() => seen.updateOne(
          { key: storeKey(key), expires_at: { $lte: new Date() } },
          { $set: { expires_at: expiresAt } },
          { upsert: true }
        ))
        return true
      } catch (error) {
        if (error instanceof DuplicateKeyError) return false
        throw error
      }
    }
  }
}
