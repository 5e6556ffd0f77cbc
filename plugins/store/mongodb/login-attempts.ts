import type { Db } from 'mongodb'
import { guard } from './guard.js'
import type { AttemptWindow, LoginAttemptRepository } from '../../../lib/store.js'
import { DuplicateKeyError, storeKey } from '../../../lib/store.js'

interface AttemptDocument {
  key: string
  count: number
  resets_at: Date
}

export function createMongoLoginAttempts (db: Db): LoginAttemptRepository {
  const attempts = db.collection<AttemptDocument>('login_attempts')

  /**
   * One findOneAndUpdate: the filter matches only a window with room (or an ended one), and the
   * pipeline counts into it or restarts it at 1. A full running window does not match, so the
   * upsert tries to insert a second document for the key, which the unique index refuses.
   */
  const reserveOnce = async (key: string, max: number, windowMs: number): Promise<AttemptWindow | null> => {
    const now = new Date()
    const running = { $gt: ['$resets_at', now] }
    try {
      const updated = await guard(() => attempts.findOneAndUpdate(
        { key: storeKey(key), $or: [{ resets_at: { $lte: now } }, { count: { $lt: max } }] },
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
    } catch (error) {
      if (error instanceof DuplicateKeyError) return null
      throw error
    }
  }

  return {
    async reserve (key, max, windowMs) {
      // A first refusal can also be two first attempts racing to insert the key: the second try tells them apart.
      const window = await reserveOnce(key, max, windowMs) ?? await reserveOnce(key, max, windowMs)
      if (window !== null) return { reserved: true, window }
      const full = await this.get(key)
      return { reserved: false, window: full ?? { count: max, resets_at: new Date(Date.now() + windowMs) } }
    },
    async release (key) {
      await guard(() => attempts.updateOne({ key: storeKey(key), count: { $gt: 0 } }, { $inc: { count: -1 } }))
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
