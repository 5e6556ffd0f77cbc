import type { Collection, Db } from 'mongodb'
import type { VerificationRecord, VerificationRepository } from '../../../lib/store.js'
import { DuplicateKeyError, laterDeliveries, storeKey } from '../../../lib/store.js'
import { guard, withoutNull } from './guard.js'

/** One document per recipient: the sends held in its sliding window (a log of at most `limit` entries). */
interface RecipientSendLog {
  _id: string
  sends: Array<{ id: string, at: Date }>
  expires_at: Date
}

const PROJECTION = { projection: { _id: 0 } } as const

/**
 * Verifications in MongoDB. Each state change is ONE conditional update whose filter holds the
 * whole precondition, so the server applies check and change atomically per document.
 */
export function createMongoVerifications (db: Db): VerificationRepository {
  const verifications: Collection<VerificationRecord> = db.collection('verifications')
  const recipientSends: Collection<RecipientSendLog> = db.collection('sms_recipient_sends')

  return {

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

    async reserveRecipientSend (recipient, sendId, now, windowMs, limit) {
      const cutoff = new Date(now.getTime() - windowMs)
      // One pipeline update: drop sends that left the window, then append this one only while under the limit.
      const reserve = (): Promise<RecipientSendLog | null> => guard(() => recipientSends.findOneAndUpdate(
        { _id: storeKey(recipient) },
        [
          { $set: { sends: { $filter: { input: { $ifNull: ['$sends', []] }, cond: { $gt: ['$$this.at', cutoff] } } } } },
          {
            $set: {
              sends: { $cond: [{ $lt: [{ $size: '$sends' }, limit] }, { $concatArrays: ['$sends', [{ id: sendId, at: now }]] }, '$sends'] },
              expires_at: new Date(now.getTime() + windowMs)
            }
          }
        ],
        { upsert: true, returnDocument: 'after' }
      ))
      let log: RecipientSendLog | null
      try {
        log = await reserve()
      } catch (error) {
        // Two first sends to one recipient can race on the upsert; the loser finds the document now.
        if (!(error instanceof DuplicateKeyError)) throw error
        log = await reserve()
      }
      const held = log?.sends ?? []
      return { reserved: held.some((send) => send.id === sendId), retryAt: new Date((held[0]?.at ?? now).getTime() + windowMs) }
    },

    async releaseRecipientSend (recipient, sendId) {
      await guard(() => recipientSends.updateOne({ _id: storeKey(recipient) }, { $pull: { sends: { id: sendId } } }))
    },

    async noteSent (authId, id, messageId) {
      await guard(() => verifications.updateOne({ auth_id: storeKey(authId), id: storeKey(id) }, { $set: { message_id: storeKey(messageId), delivery: 'queued' } }))
    },

    async claimExpired (now, limit) {
      const claimed: Array<{ auth_id: string, id: string }> = []
      while (claimed.length < limit) {
        const record = await guard(() => verifications.findOneAndUpdate(
          { status: 'pending', expires_at: { $lte: now }, attempts_left: { $gt: 0 }, expiry_reported: { $exists: false } },
          { $set: { expiry_reported: true } },
          { projection: { _id: 0, auth_id: 1, id: 1 } }
        ))
        if (record === null) break
        claimed.push({ auth_id: record.auth_id, id: record.id })
      }
      return claimed
    },

    async recordDelivery (messageId, delivery) {
      // One conditional update: only forward, only out of a state that is not final.
      const updated = await guard(() => verifications.findOneAndUpdate(
        { message_id: storeKey(messageId), delivery: { $in: laterDeliveries(delivery) } },
        { $set: { delivery } },
        { projection: { _id: 0, auth_id: 1, id: 1 } }
      ))
      return updated === null ? null : { auth_id: updated.auth_id, id: updated.id }
    }
  }
}
