import type { Db, Filter } from 'mongodb'
import type { TransactionRecord, TransactionRepository } from '../../../lib/store.js'
import { TRANSACTION_RETENTION_MS, storeKey } from '../../../lib/store.js'
import { guard } from './guard.js'

/** App Verify transactions in the `tokens` collection (the tutorial's collection name). */
export function createMongoTransactions (db: Db): TransactionRepository {
  const tokens = db.collection<TransactionRecord>('tokens')
  const retainedSince = (): Date => new Date(Date.now() - TRANSACTION_RETENTION_MS)

  return {
    async record (transaction) {
      const document: TransactionRecord = {
        xid: storeKey(transaction.xid),
        phone_number: storeKey(transaction.phone_number),
        token_sha256: storeKey(transaction.token_sha256),
        issued_at: transaction.issued_at,
        expires_at: transaction.expires_at,
        issued_to: storeKey(transaction.issued_to)
      }
      // Replaces only a record past retention the TTL monitor has not removed yet; a retained
      // one does not match, so the upsert inserts and the unique index answers E11000.
      await guard(() => tokens.replaceOne(
        { xid: document.xid, expires_at: { $lte: retainedSince() } },
        document,
        { upsert: true }
      ))
    },

    async find (xid) {
      return await guard(() => tokens.findOne(
        { xid: storeKey(xid), expires_at: { $gt: retainedSince() } },
        { projection: { _id: 0 } }
      ))
    },

    async listByPhone (phoneNumber, { limit, after }) {
      const filter: Filter<TransactionRecord> = {
        phone_number: storeKey(phoneNumber),
        expires_at: { $gt: retainedSince() }
      }
      if (after !== undefined) {
        filter.$or = [
          { issued_at: { $lt: after.issued_at } },
          { issued_at: after.issued_at, xid: { $lt: storeKey(after.xid) } }
        ]
      }
      const found = await guard(() => tokens.find(filter, { projection: { _id: 0 } })
        .sort({ issued_at: -1, xid: -1 })
        .limit(limit + 1)
        .toArray())
      const items = found.slice(0, limit)
      const last = items.at(-1)
      return found.length > limit && last !== undefined
        ? { items, next: { issued_at: last.issued_at, xid: last.xid } }
        : { items }
    }
  }
}
