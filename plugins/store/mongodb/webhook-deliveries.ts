import type { Db, Filter } from 'mongodb'
import type { WebhookDeliveryRecord, WebhookDeliveryRepository } from '../../../lib/store.js'
import { DuplicateKeyError, storeKey } from '../../../lib/store.js'
import { guard } from './guard.js'

/**
 * `webhook_deliveries`: unique by id, purged by TTL on purge_at. A claim is one findOneAndUpdate
 * per delivery (pending and due → leased), so concurrent workers on any instance never take the
 * same delivery; a worker that dies mid-attempt leaves the lease to run out and the delivery is
 * tried again (at-least-once).
 */
export function createMongoWebhookDeliveries (db: Db): WebhookDeliveryRepository {
  const deliveries = db.collection<WebhookDeliveryRecord>('webhook_deliveries')
  const projection = { _id: 0 } as const
  return {
    async enqueue (records) {
      for (const record of records) {
        try {
          await guard(() => deliveries.insertOne({ ...record, id: storeKey(record.id) }))
        } catch (error) {
          if (!(error instanceof DuplicateKeyError)) throw error
        }
      }
    },
    async claimDue (now, leaseMs, limit) {
      const claimed: WebhookDeliveryRecord[] = []
      while (claimed.length < limit) {
        const record = await guard(() => deliveries.findOneAndUpdate(
          { status: 'pending', next_attempt_at: { $lte: now } },
          { $set: { next_attempt_at: new Date(now.getTime() + leaseMs) } },
          { projection, sort: { next_attempt_at: 1 }, returnDocument: 'after' }
        ))
        if (record === null) break
        claimed.push(record)
      }
      return claimed
    },
    async settle (id, outcome) {
      const set: Partial<WebhookDeliveryRecord> = { last_attempt_at: outcome.at, last_result: outcome.result }
      if (outcome.delivered) Object.assign(set, { status: 'delivered', delivered_at: outcome.at, purge_at: outcome.purgeAt })
      else if (outcome.retryAt === null) Object.assign(set, { status: 'failed', purge_at: outcome.purgeAt })
      else set.next_attempt_at = outcome.retryAt
      await guard(() => deliveries.updateOne({ id: storeKey(id) }, { $set: set, $inc: { attempts: 1 } }))
    },
    async list (filter) {
      const query: Filter<WebhookDeliveryRecord> = {}
      if (filter.status !== undefined) query.status = filter.status
      if (filter.eventType !== undefined) query.event_type = storeKey(filter.eventType)
      return await guard(() => deliveries.find(query, { projection }).sort({ created_at: -1, id: -1 }).limit(filter.limit).toArray())
    }
  }
}
