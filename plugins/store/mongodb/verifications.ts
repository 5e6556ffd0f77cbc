import type { Collection, Db } from 'mongodb'
import type { VerificationRecord, VerificationRepository } from '../types.js'
import { DuplicateKeyError, storeKey } from '../types.js'
import { guard } from '../mongodb.js'

interface RecipientSendCounter {
  _id: string
  count: number
  expires_at: Date
}

export type MongoVerificationRepository = VerificationRepository & {
  ensureIndexes (): Promise<void>
}

const PROJECTION = { projection: { _id: 0 } } as const

/**
 * Verifications in MongoDB. Each state change is ONE conditional update whose filter holds the
 * whole precondition, so the server applies check and change atomically per document.
 */
export function createMongoVerifications (db: Db): MongoVerificationRepository {
  const verifications: Collection<VerificationRecord> = db.collection('verifications')
  const recipientSends: Collection<RecipientSendCounter> = db.collection('sms_recipient_sends')

  return {
    async ensureIndexes () {
      await guard(async () => {
        await verifications.createIndexes([
          { key: { auth_id: 1 }, name: 'auth_id_unique', unique: true },
          { key: { purge_at: 1 }, name: 'purge_at_ttl', expireAfterSeconds: 0 }
        ])
        await recipientSends.createIndexes([
          { key: { expires_at: 1 }, name: 'expires_at_ttl', expireAfterSeconds: 0 }
        ])
      })
    },

    async create (record) {
      const authId = storeKey(record.auth_id)
      // Replaces only an ended record; an active one fails the filter, the upsert then hits the unique index.
      await guard(() => verifications.replaceOne(
        { auth_id: authId, $or: [{ status: { $ne: 'pending' } }, { expires_at: { $lte: record.created_at } }] },
        { ...record, auth_id: authId },
        { upsert: true }
      ))
    },

    async find (authId, now) {
      const record = await guard(() => verifications.findOne({ auth_id: storeKey(authId), purge_at: { $gt: now } }, PROJECTION))
      return record === null ? null : withoutNull(record)
    },

    async resend (authId, input) {
      const record = await guard(() => verifications.findOneAndUpdate(
        {
          auth_id: storeKey(authId),
          id: storeKey(input.id),
          status: 'pending',
          expires_at: { $gt: input.now },
          attempts_left: { $gt: 0 },
          recipient: storeKey(input.recipient),
          last_sent_at: { $lte: input.sentBefore },
          sends: { $lt: input.maxSends }
        },
        {
          $set: { code_hash: input.codeHash, last_sent_at: input.now, expires_at: input.expiresAt, purge_at: input.purgeAt },
          $inc: { sends: 1, version: 1 }
        },
        { returnDocument: 'after', ...PROJECTION }
      ))
      return record === null ? null : withoutNull(record)
    },

    async restoreCode (authId, id, version, previous) {
      const result = await guard(() => verifications.updateOne(
        { auth_id: storeKey(authId), id: storeKey(id), version, status: 'pending' },
        {
          $set: {
            code_hash: previous.code_hash,
            last_sent_at: previous.last_sent_at,
            expires_at: previous.expires_at,
            purge_at: previous.purge_at,
            sends: previous.sends
          },
          $inc: { version: 1 }
        }
      ))
      return result.modifiedCount === 1
    },

    async remove (authId, id) {
      const result = await guard(() => verifications.deleteOne({ auth_id: storeKey(authId), id: storeKey(id) }))
      return result.deletedCount === 1
    },

    async registerAttempt (authId, now) {
      const record = await guard(() => verifications.findOneAndUpdate(
        { auth_id: storeKey(authId), status: 'pending', expires_at: { $gt: now }, attempts_left: { $gt: 0 } },
        { $inc: { attempts_left: -1 } },
        { returnDocument: 'after', ...PROJECTION }
      ))
      return record === null ? null : withoutNull(record)
    },

    async approve (authId, id, codeHash, now, purgeAt) {
      const result = await guard(() => verifications.updateOne(
        { auth_id: storeKey(authId), id: storeKey(id), code_hash: storeKey(codeHash), status: 'pending', expires_at: { $gt: now } },
        { $set: { status: 'approved', ended_at: now, purge_at: purgeAt }, $inc: { attempts_left: 1 } }
      ))
      return result.modifiedCount === 1
    },

    async cancel (authId, now, purgeAt) {
      const result = await guard(() => verifications.updateOne(
        { auth_id: storeKey(authId), status: 'pending', expires_at: { $gt: now }, attempts_left: { $gt: 0 } },
        { $set: { status: 'canceled', ended_at: now, purge_at: purgeAt } }
      ))
      return result.modifiedCount === 1
    },

    async countRecipientSend (recipient, windowStart, windowEnd) {
      const key = `${storeKey(recipient)}|${windowStart.toISOString()}`
      const increment = (): Promise<RecipientSendCounter | null> => guard(() => recipientSends.findOneAndUpdate(
        { _id: key },
        { $inc: { count: 1 }, $setOnInsert: { expires_at: windowEnd } },
        { upsert: true, returnDocument: 'after' }
      ))
      let counter: RecipientSendCounter | null
      try {
        counter = await increment()
      } catch (error) {
        // Two first sends in one window can race on the upsert; the loser simply increments.
        if (!(error instanceof DuplicateKeyError)) throw error
        counter = await increment()
      }
      /* c8 ignore next */
      return counter?.count ?? 1
    }
  }
}

/** MongoDB returns absent optional fields as missing or null; the memory store leaves them out. */
function withoutNull<T extends object> (record: T): T {
  return Object.fromEntries(Object.entries(record).filter(([, v]) => v !== undefined && v !== null)) as T
}
