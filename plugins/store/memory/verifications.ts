import type { VerificationRecord, VerificationRepository } from '../../../lib/store.js'
import { DuplicateKeyError, laterDeliveries, storeKey } from '../../../lib/store.js'
import { dropOldest } from '../../../lib/capped.js'
import { copyRecord } from './copy.js'

/** Send logs older than this are swept: longer than any recipient window in use (one hour). */
const RECIPIENT_WINDOW_KEEP_MS = 2 * 3_600_000

export type MemoryVerificationRepository = VerificationRepository & {
  /** Drops records past purge_at and counters past their window (the TTL index's job in MongoDB). */
  sweep (now: number): void
}

/**
 * Verifications in a Map. JavaScript runs each method body without interleaving between its
 * read and its write (no await in between), which gives the same atomicity as MongoDB's
 * single conditional findOneAndUpdate: the condition is checked and the update applied at once.
 */
export function createMemoryVerifications (maxRecords = Infinity): MemoryVerificationRepository {
  const records = new Map<string, VerificationRecord>()
  /** Per recipient, the held sends of the sliding window, oldest first. */
  const sends = new Map<string, Array<{ id: string, at: number }>>()

  const live = (authId: string, now: Date): VerificationRecord | undefined => {
    const record = records.get(storeKey(authId))
    return record !== undefined && record.purge_at > now ? record : undefined
  }
  const usable = (record: VerificationRecord | undefined, now: Date): record is VerificationRecord =>
    record !== undefined && record.status === 'pending' && record.expires_at > now

  return {
    sweep (now) {
      for (const [authId, record] of records) {
        if (record.purge_at.getTime() <= now) records.delete(authId)
      }
      for (const [recipient, held] of sends) {
        if (held.every((send) => send.at <= now - RECIPIENT_WINDOW_KEEP_MS)) sends.delete(recipient)
      }
    },

    async create (record) {
      const existing = records.get(storeKey(record.auth_id))
      if (usable(existing, record.created_at)) throw new DuplicateKeyError('auth_id is active')
      records.delete(record.auth_id)
      records.set(record.auth_id, copyRecord(record))
      dropOldest(records, maxRecords)
    },

    async find (authId, now) {
      const record = live(authId, now)
      return record === undefined ? null : copyRecord(record)
    },

    async resend (authId, input) {
      const record = records.get(storeKey(authId))
      if (!usable(record, input.now) || record.id !== input.id || record.attempts_left <= 0 || record.recipient !== input.recipient ||
        record.last_sent_at > input.sentBefore || record.sends >= input.maxSends) return null
      record.code_hash = input.codeHash
      record.last_sent_at = input.now
      record.expires_at = input.expiresAt
      record.purge_at = input.purgeAt
      record.sends += 1
      record.version += 1
      return copyRecord(record)
    },

    async restoreCode (authId, id, version, previous) {
      const record = records.get(storeKey(authId))
      if (record === undefined || record.id !== id || record.version !== version || record.status !== 'pending') return false
      record.code_hash = previous.code_hash
      record.last_sent_at = new Date(previous.last_sent_at)
      record.expires_at = new Date(previous.expires_at)
      record.purge_at = new Date(previous.purge_at)
      record.sends = previous.sends
      record.version += 1
      return true
    },

    async remove (authId, id) {
      const record = records.get(storeKey(authId))
      if (record === undefined || record.id !== storeKey(id)) return false
      records.delete(authId)
      return true
    },

    async registerAttempt (authId, now) {
      const record = records.get(storeKey(authId))
      if (!usable(record, now) || record.attempts_left <= 0) return null
      record.attempts_left -= 1
      return copyRecord(record)
    },

    async approve (authId, id, codeHash, now, purgeAt) {
      const record = records.get(storeKey(authId))
      if (!usable(record, now) || record.id !== id || record.code_hash !== codeHash) return false
      record.status = 'approved'
      record.ended_at = now
      record.purge_at = purgeAt
      record.attempts_left += 1
      return true
    },

    async cancel (authId, now, purgeAt) {
      const record = records.get(storeKey(authId))
      if (!usable(record, now) || record.attempts_left <= 0) return false
      record.status = 'canceled'
      record.ended_at = now
      record.purge_at = purgeAt
      return true
    },

    async reserveRecipientSend (recipient, sendId, now, windowMs, limit) {
      const cutoff = now.getTime() - windowMs
      const held = (sends.get(storeKey(recipient)) ?? []).filter((send) => send.at > cutoff)
      const reserved = held.length < limit
      if (reserved) held.push({ id: sendId, at: now.getTime() })
      sends.set(recipient, held)
      dropOldest(sends, maxRecords)
      return { reserved, retryAt: new Date((held[0]?.at ?? now.getTime()) + windowMs) }
    },

    async releaseRecipientSend (recipient, sendId) {
      const held = sends.get(storeKey(recipient))
      if (held !== undefined) sends.set(recipient, held.filter((send) => send.id !== sendId))
    },

    async noteSent (authId, id, messageId) {
      const record = records.get(storeKey(authId))
      if (record?.id !== id) return
      record.message_id = storeKey(messageId)
      record.delivery = 'queued'
    },

    async claimExpired (now, limit) {
      const claimed: Array<{ auth_id: string, id: string }> = []
      for (const record of records.values()) {
        if (claimed.length >= limit) break
        if (record.status !== 'pending' || record.attempts_left <= 0 || record.expires_at > now || record.expiry_reported === true) continue
        record.expiry_reported = true
        claimed.push({ auth_id: record.auth_id, id: record.id })
      }
      return claimed
    },

    async recordDelivery (messageId, delivery) {
      const key = storeKey(messageId)
      const from = laterDeliveries(delivery)
      for (const record of records.values()) {
        if (record.message_id !== key || record.delivery === undefined || !from.includes(record.delivery)) continue
        record.delivery = delivery
        return { auth_id: record.auth_id, id: record.id }
      }
      return null
    }
  }
}
