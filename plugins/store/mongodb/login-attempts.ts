import type { Db } from 'mongodb'
import { guard } from '../mongodb.js'
import type { AttemptWindow, LoginAttemptRepository } from '../types.js'
import { DuplicateKeyError, storeKey } from '../types.js'

export type MongoLoginAttempts = LoginAttemptRepository & { ensureIndexes (): Promise<void> }

interface AttemptDocument {
  key: string
  count: number
  resets_at: Date
}

export function createMongoLoginAttempts (db: Db): MongoLoginAttempts {
  const attempts = db.collection<AttemptDocument>('login_attempts')

  const failOnce = async (key: string, windowMs: number): Promise<AttemptWindow> => {
    const now = new Date()
    const running = { $gt: ['$resets_at', now] }
    // One pipeline update: increment inside a running window, restart an ended (or new) one at 1.
    const updated = await guard(() => attempts.findOneAndUpdate(
      { key: storeKey(key) },
      [{
        $set: {
          count: { $cond: [running, { $add: ['$count', 1] }, 1] },
          resets_at: { $cond: [running, '$resets_at', new Date(now.getTime() + windowMs)] }
        }
      }],
      { upsert: true, returnDocument: 'after', projection: { _id: 0, count: 1, resets_at: 1 } }
    ))
    /* c8 ignore next */
    if (updated === null) throw new Error('upsert returned no document')
    return { count: updated.count, resets_at: updated.resets_at }
  }

  return {
    async ensureIndexes () {
      await attempts.createIndexes([
        { key: { key: 1 }, name: 'key_unique', unique: true },
        { key: { resets_at: 1 }, name: 'resets_at_ttl', expireAfterSeconds: 0 }
      ])
    },
    async fail (key, windowMs) {
      try {
        return await failOnce(key, windowMs)
      } catch (error) {
        // Two first failures raced to insert the key: the loser now finds the document and increments it.
        if (error instanceof DuplicateKeyError) return await failOnce(key, windowMs)
        throw error
      }
    },
    async get (key) {
      const found = await guard(() => attempts.findOne(
        { key: storeKey(key), resets_at: { $gt: new Date() } },
        { projection: { _id: 0, count: 1, resets_at: 1 } }
      ))
      return found === null ? null : { count: found.count, resets_at: found.resets_at }
    },
    async clear (key) {
      await guard(() => attempts.deleteOne({ key: storeKey(key) }))
    }
  }
}
