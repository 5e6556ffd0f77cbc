import type { Db } from 'mongodb'
import { guard } from './guard.js'
import type { ReplayCache } from '../../../lib/store.js'
import { DuplicateKeyError, storeKey } from '../../../lib/store.js'

interface SeenDocument {
  key: string
  expires_at: Date
}

export function createMongoReplayCache (db: Db): ReplayCache {
  const seen = db.collection<SeenDocument>('dpop_proofs')
  return {
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
