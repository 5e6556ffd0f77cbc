import type { WebhookDeliveryRecord, WebhookDeliveryRepository } from '../../../lib/store.js'
import { storeKey } from '../../../lib/store.js'
import { dropOldest } from '../../../lib/capped.js'
import { copyRecord } from './copy.js'

export type MemoryWebhookDeliveries = WebhookDeliveryRepository & { sweep (): void }

/** The delivery queue and log in a Map; claims are synchronous, so atomic. */
export function createMemoryWebhookDeliveries (now: () => number, maxRecords = Infinity): MemoryWebhookDeliveries {
  const deliveries = new Map<string, WebhookDeliveryRecord>()
  return {
    async enqueue (records) {
      for (const record of records) if (!deliveries.has(storeKey(record.id))) deliveries.set(record.id, copyRecord(record))
      dropOldest(deliveries, maxRecords)
    },
    async claimDue (at, leaseMs, limit) {
      const claimed: WebhookDeliveryRecord[] = []
      for (const record of deliveries.values()) {
        if (claimed.length >= limit) break
        if (record.status !== 'pending' || record.next_attempt_at > at) continue
        record.next_attempt_at = new Date(at.getTime() + leaseMs)
        claimed.push(copyRecord(record))
      }
      return claimed
    },
    async settle (id, outcome) {
      const record = deliveries.get(storeKey(id))
      if (record === undefined) return
      record.attempts += 1
      record.last_attempt_at = outcome.at
      record.last_result = outcome.result
      if (outcome.delivered) {
        record.status = 'delivered'
        record.delivered_at = outcome.at
        record.purge_at = outcome.purgeAt
      } else if (outcome.retryAt === null) {
        record.status = 'failed'
        record.purge_at = outcome.purgeAt
      } else {
        record.next_attempt_at = outcome.retryAt
      }
    },
    async list (filter) {
      return [...deliveries.values()]
        .filter((record) => (filter.status === undefined || record.status === filter.status) && (filter.eventType === undefined || record.event_type === filter.eventType))
        .sort((a, b) => b.created_at.getTime() - a.created_at.getTime() || (a.id < b.id ? 1 : -1))
        .slice(0, filter.limit)
        .map((record) => copyRecord(record))
    },
    sweep () {
      const time = now()
      for (const [id, record] of deliveries) if (record.purge_at.getTime() <= time) deliveries.delete(id)
    }
  }
}
