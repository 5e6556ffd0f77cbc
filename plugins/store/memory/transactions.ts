import type { TransactionRecord, TransactionRepository } from '../../../lib/store.js'
import { DuplicateKeyError, TRANSACTION_RETENTION_MS, storeKey } from '../../../lib/store.js'
import { dropOldest } from '../../../lib/capped.js'
import { copyRecord } from './copy.js'

const SWEEP_INTERVAL_MS = 60_000

/** Newest first: issued_at descending, then xid descending (the MongoDB index order). */
function newerFirst (a: { issued_at: Date, xid: string }, b: { issued_at: Date, xid: string }): number {
  const byTime = b.issued_at.getTime() - a.issued_at.getTime()
  if (byTime !== 0) return byTime
  return a.xid < b.xid ? 1 : a.xid > b.xid ? -1 : 0
}

/**
 * App Verify transactions in a Map keyed by xid. Records past retention count as gone, as they
 * are once MongoDB's TTL monitor has removed them; a sweep on write keeps the Map bounded.
 */
export function createMemoryTransactions (now: () => number, maxRecords = Infinity): TransactionRepository {
  const byXid = new Map<string, TransactionRecord>()
  let lastSweep = now()

  const retained = (record: TransactionRecord, time: number): boolean =>
    record.expires_at.getTime() + TRANSACTION_RETENTION_MS > time

  const sweep = (time: number): void => {
    if (time - lastSweep < SWEEP_INTERVAL_MS) return
    lastSweep = time
    for (const [xid, record] of byXid) {
      if (!retained(record, time)) byXid.delete(xid)
    }
  }

  return {
    async record (transaction) {
      const time = now()
      sweep(time)
      const xid = storeKey(transaction.xid)
      const existing = byXid.get(xid)
      if (existing !== undefined && retained(existing, time)) throw new DuplicateKeyError('xid already recorded')
      byXid.delete(xid)
      const stored = copyRecord(transaction)
      stored.phone_number = storeKey(transaction.phone_number)
      byXid.set(xid, stored)
      dropOldest(byXid, maxRecords)
    },

    async find (xid) {
      const record = byXid.get(storeKey(xid))
      return record === undefined || !retained(record, now()) ? null : copyRecord(record)
    },

    async listByPhone (phoneNumber, { limit, after }) {
      const phone = storeKey(phoneNumber)
      const time = now()
      const matching = [...byXid.values()]
        .filter((record) => record.phone_number === phone && retained(record, time))
        .filter((record) => after === undefined || newerFirst(after, record) < 0)
        .sort(newerFirst)
      const items = matching.slice(0, limit).map((record) => copyRecord(record))
      const last = items.at(-1)
      return matching.length > limit && last !== undefined
        ? { items, next: { issued_at: last.issued_at, xid: last.xid } }
        : { items }
    }
  }
}
