import { test } from 'tap'
import { MongoNetworkError, MongoServerError } from 'mongodb'
import type { Db } from 'mongodb'
import { createMongoTransactions } from '../../../plugins/store/mongodb/transactions.js'
import { INDEX_PLANS } from '../../../plugins/store/mongodb/indexes.js'
import { DuplicateKeyError, StoreUnavailableError, TRANSACTION_RETENTION_MS } from '../../../lib/store.js'
import type { TransactionRecord } from '../../../lib/store.js'

// No MongoDB server runs here (mongodb.test.ts runs the real contract when MONGODB_URL is set):
// this records the queries the repository sends, so their shape is pinned where it cannot run.
interface Call { method: string, args: unknown[] }

function fakeDb (answers: { findOne?: unknown, find?: unknown[], fail?: Error } = {}): { db: Db, calls: Call[] } {
  const calls: Call[] = []
  const answer = async <T>(value: T): Promise<T> => {
    if (answers.fail !== undefined) throw answers.fail
    return value
  }
  const collection = {
    createIndexes: async (...args: unknown[]) => { calls.push({ method: 'createIndexes', args }); return await answer([]) },
    replaceOne: async (...args: unknown[]) => { calls.push({ method: 'replaceOne', args }); return await answer({}) },
    findOne: async (...args: unknown[]) => { calls.push({ method: 'findOne', args }); return await answer(answers.findOne ?? null) },
    find: (...args: unknown[]) => {
      calls.push({ method: 'find', args })
      const cursor = {
        sort: (...sortArgs: unknown[]) => { calls.push({ method: 'sort', args: sortArgs }); return cursor },
        limit: (...limitArgs: unknown[]) => { calls.push({ method: 'limit', args: limitArgs }); return cursor },
        toArray: async () => await answer(answers.find ?? [])
      }
      return cursor
    }
  }
  const db = { collection: (name: string) => { calls.push({ method: 'collection', args: [name] }); return collection } }
  return { db: db as unknown as Db, calls }
}

function record (xid: string, issuedAt: number): TransactionRecord {
  return {
    xid,
    phone_number: '+15551234567',
    token_sha256: 'd'.repeat(64),
    issued_at: new Date(issuedAt),
    expires_at: new Date(issuedAt + 90_000),
    issued_to: 'public'
  }
}

test('the tokens collection gets a unique xid, a newest-first phone index and a retention TTL', async (t) => {
  t.same(INDEX_PLANS.filter((plan) => plan.collection === 'tokens').map(({ collection, ...plan }) => plan), [
    { name: 'xid_unique', key: { xid: 1 }, unique: true },
    { name: 'phone_newest_first', key: { phone_number: 1, issued_at: -1, xid: -1 } },
    { name: 'expires_at_retention', key: { expires_at: 1 }, expireAfterSeconds: TRANSACTION_RETENTION_MS / 1000 }
  ])
})

test('record upserts only over a record past retention, so a retained xid hits the unique index', async (t) => {
  const { db, calls } = fakeDb()
  const before = Date.now()
  const transaction = record('x-1', before)
  await createMongoTransactions(db).record(transaction)
  const call = calls.find((c) => c.method === 'replaceOne')
  const [filter, document, options] = call?.args as [{ xid: string, expires_at: { $lte: Date } }, TransactionRecord, unknown]
  t.equal(filter.xid, 'x-1')
  t.ok(Math.abs(filter.expires_at.$lte.getTime() - (before - TRANSACTION_RETENTION_MS)) < 1000)
  t.same(document, transaction)
  t.same(options, { upsert: true })
  await t.rejects(createMongoTransactions(db).record({ ...transaction, xid: { $gt: '' } as unknown as string }), TypeError)

  const duplicate = new MongoServerError({ message: 'E11000 duplicate key error', code: 11000 })
  await t.rejects(createMongoTransactions(fakeDb({ fail: duplicate }).db).record(transaction), DuplicateKeyError)
  await t.rejects(createMongoTransactions(fakeDb({ fail: new MongoNetworkError('down') }).db).record(transaction), StoreUnavailableError)
})

test('find looks up one retained xid without _id', async (t) => {
  const stored = record('x-2', Date.now())
  const { db, calls } = fakeDb({ findOne: stored })
  t.same(await createMongoTransactions(db).find('x-2'), stored)
  const [filter, options] = calls.find((c) => c.method === 'findOne')?.args as [{ xid: string, expires_at: { $gt: Date } }, unknown]
  t.equal(filter.xid, 'x-2')
  t.ok(filter.expires_at.$gt instanceof Date)
  t.same(options, { projection: { _id: 0 } })
  await t.rejects(createMongoTransactions(db).find({ $ne: null } as unknown as string), TypeError)
})

test('listByPhone sorts newest first, asks for one extra to know about a next page, and resumes after the cursor', async (t) => {
  const now = Date.now()
  const rows = [record('c', now), record('b', now - 1000), record('a', now - 2000)]
  const { db, calls } = fakeDb({ find: rows })
  const page = await createMongoTransactions(db).listByPhone('+15551234567', { limit: 2 })
  t.same(page, { items: rows.slice(0, 2), next: { issued_at: rows[1]?.issued_at, xid: 'b' } })
  const [filter, options] = calls.find((c) => c.method === 'find')?.args as [Record<string, unknown>, unknown]
  t.equal(filter.phone_number, '+15551234567')
  t.notOk('$or' in filter, 'no cursor, no cursor condition')
  t.same(options, { projection: { _id: 0 } })
  t.same(calls.find((c) => c.method === 'sort')?.args, [{ issued_at: -1, xid: -1 }])
  t.same(calls.find((c) => c.method === 'limit')?.args, [3])

  const after = { issued_at: new Date(now), xid: 'c' }
  const resumed = fakeDb({ find: rows.slice(1) })
  const last = await createMongoTransactions(resumed.db).listByPhone('+15551234567', { limit: 2, after })
  t.same(last, { items: rows.slice(1) }, 'no next page when no extra row came back')
  const resumedFilter = resumed.calls.find((c) => c.method === 'find')?.args[0] as { $or: unknown }
  t.same(resumedFilter.$or, [{ issued_at: { $lt: after.issued_at } }, { issued_at: after.issued_at, xid: { $lt: 'c' } }])
  await t.rejects(createMongoTransactions(db).listByPhone({ $ne: null } as unknown as string, { limit: 2 }), TypeError)
})
