import { randomUUID } from 'node:crypto'
import type { Test } from 'tap'
import { DuplicateKeyError, TRANSACTION_RETENTION_MS } from '../../../lib/store.js'
import type { Store, TransactionRecord } from '../../../lib/store.js'

/** Fresh phone numbers per run, so a shared MongoDB database never mixes runs. */
function uniquePhone (): string {
  return `+1555${String(Math.floor(Math.random() * 10_000_000)).padStart(7, '0')}`
}

function transaction (overrides: Partial<TransactionRecord> = {}): TransactionRecord {
  const now = Date.now()
  return {
    xid: `xid-${randomUUID()}`,
    phone_number: '+15551234567',
    token_sha256: 'a'.repeat(64),
    issued_at: new Date(now),
    expires_at: new Date(now + 80_000),
    issued_to: 'client:abc',
    ...overrides
  }
}

/** App Verify transactions: unique xid, lookup, newest-first pages per phone number, retention. */
export async function transactionsContract (t: Test, makeStore: () => Promise<Store>): Promise<void> {
  await t.test('transactions: record, find, unique xid', async (t) => {
    const store = await makeStore()
    const record = transaction()
    await store.transactions.record(record)
    t.same(await store.transactions.find(record.xid), record)
    await t.rejects(store.transactions.record({ ...record, phone_number: '+15557654321' }), DuplicateKeyError)
    t.same(await store.transactions.find(record.xid), record, 'the first record stays')
    t.equal(await store.transactions.find(`missing-${randomUUID()}`), null)
  })

  await t.test('transactions: concurrent records of one xid, exactly one wins', async (t) => {
    const store = await makeStore()
    const xid = `race-${randomUUID()}`
    const results = await Promise.allSettled(Array.from({ length: 5 }, () => store.transactions.record(transaction({ xid }))))
    t.equal(results.filter((r) => r.status === 'fulfilled').length, 1)
    const rejected = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected')
    t.equal(rejected.length, 4)
    t.ok(rejected.every((r) => r.reason instanceof DuplicateKeyError))
  })

  await t.test('transactions: a phone number\'s records, newest first, stable under ties, paged', async (t) => {
    const store = await makeStore()
    const phone = uniquePhone()
    const base = Date.now() - 60_000
    // Three share one issue time: the xid (descending) breaks the tie.
    const records = [
      transaction({ phone_number: phone, xid: 'p-a', issued_at: new Date(base) }),
      transaction({ phone_number: phone, xid: 'p-c', issued_at: new Date(base + 1000) }),
      transaction({ phone_number: phone, xid: 'p-b', issued_at: new Date(base + 1000) }),
      transaction({ phone_number: phone, xid: 'p-d', issued_at: new Date(base + 1000) }),
      transaction({ phone_number: phone, xid: 'p-e', issued_at: new Date(base + 2000) })
    ].map((r) => ({ ...r, xid: `${r.xid}-${phone}` }))
    for (const record of records) await store.transactions.record(record)
    await store.transactions.record(transaction({ phone_number: uniquePhone() }))

    const expected = ['p-e', 'p-d', 'p-c', 'p-b', 'p-a'].map((x) => `${x}-${phone}`)
    const all = await store.transactions.listByPhone(phone, { limit: 10 })
    t.same(all.items.map((r) => r.xid), expected)
    t.equal(all.next, undefined, 'no next page when everything fits')
    t.same(all.items[0], records[4], 'items are whole records')

    const seen: string[] = []
    let after: { issued_at: Date, xid: string } | undefined
    for (let page = 0; page < 5; page++) {
      const result = await store.transactions.listByPhone(phone, after === undefined ? { limit: 2 } : { limit: 2, after })
      seen.push(...result.items.map((r) => r.xid))
      after = result.next
      if (after === undefined) break
      t.same(after, { issued_at: result.items.at(-1)?.issued_at, xid: result.items.at(-1)?.xid })
    }
    t.same(seen, expected, 'pages of 2 walk every record once, in order')

    const exact = await store.transactions.listByPhone(phone, { limit: 5 })
    t.equal(exact.items.length, 5)
    t.equal(exact.next, undefined, 'a page that ends exactly at the last record has no next')
    t.same((await store.transactions.listByPhone(uniquePhone(), { limit: 5 })).items, [])
  })

  await t.test('transactions: records past retention are gone and free their xid', async (t) => {
    const store = await makeStore()
    const phone = uniquePhone()
    const old = transaction({
      phone_number: phone,
      issued_at: new Date(Date.now() - TRANSACTION_RETENTION_MS - 120_000),
      expires_at: new Date(Date.now() - TRANSACTION_RETENTION_MS - 30_000)
    })
    await store.transactions.record(old)
    t.equal(await store.transactions.find(old.xid), null)
    t.same((await store.transactions.listByPhone(phone, { limit: 5 })).items, [])
    const fresh = transaction({ xid: old.xid, phone_number: phone })
    await store.transactions.record(fresh)
    t.same(await store.transactions.find(old.xid), fresh)

    const expired = transaction({ phone_number: phone, expires_at: new Date(Date.now() - 1000) })
    await store.transactions.record(expired)
    t.same(await store.transactions.find(expired.xid), expired, 'an expired token\'s record is still kept')
  })

  await t.test('transactions: keys that are not strings never reach a query', async (t) => {
    const store = await makeStore()
    const hostile = { $ne: null } as unknown as string
    await t.rejects(store.transactions.find(hostile), TypeError)
    await t.rejects(store.transactions.listByPhone(hostile, { limit: 5 }), TypeError)
    await t.rejects(store.transactions.record(transaction({ xid: hostile })), TypeError)
    await t.rejects(store.transactions.record(transaction({ phone_number: hostile })), TypeError)
  })
}
