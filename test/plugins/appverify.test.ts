import { test } from 'tap'
import { jwtVerify } from 'jose'
import { parsePhone } from '../../lib/phone.js'
import { StoreUnavailableError } from '../../lib/store.js'
import type { Store } from '../../lib/store.js'
import { createMemoryStore } from '../../plugins/store/memory.js'
import { buildTestApp } from '../helper.js'

const phone = (text: string): NonNullable<ReturnType<typeof parsePhone>> => {
  const parsed = parsePhone(text)
  if (parsed === undefined) throw new Error(`bad test phone ${text}`)
  return parsed
}

test('appVerify.issueAppVerifyToken signs with APPVERIFY_API_KEY and records the transaction under its xid', async (t) => {
  const app = await buildTestApp(t)
  const issued = await app.appVerify.issueAppVerifyToken({ phone: phone('15551234567'), xid: 'order-1', issuedTo: 'client:abc' })
  const key = Buffer.from(app.config.appVerify.apiKey, 'base64')
  const { payload, protectedHeader } = await jwtVerify(issued.token, key, { issuer: app.config.appVerify.customerId })
  t.same(protectedHeader, { alg: 'HS256', typ: 'JWT' })
  t.match(payload, { phn: '15551234567', xid: 'order-1' }, 'phn is the number as given')
  t.equal(issued.transaction.phone_number, '+15551234567', 'the record holds E.164')
  t.same(await app.appVerify.findTransaction('order-1'), issued.transaction)
  const page = await app.appVerify.listTransactions(phone('+15551234567'), { limit: 10 })
  t.same(page.items.map((item) => item.xid), ['order-1'], 'both number forms find it')

  const fresh = await app.appVerify.issueAppVerifyToken({ phone: phone('+15551234567'), issuedTo: 'public' })
  t.match(fresh.claims.xid, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/, 'no xid: a UUID v4')
  t.equal(await app.appVerify.findTransaction('never-issued'), null)
})

test('appVerify: a taken xid is 409 xid_exists, and of 20 concurrent issues for one xid exactly one gets a token', async (t) => {
  const app = await buildTestApp(t)
  const input = { phone: phone('+15551234567'), xid: 'shared', issuedTo: 'public' }
  const results = await Promise.allSettled(Array.from({ length: 20 }, async () => await app.appVerify.issueAppVerifyToken(input)))
  t.equal(results.filter((r) => r.status === 'fulfilled').length, 1)
  for (const result of results.filter((r) => r.status === 'rejected')) t.match(result.reason, { statusCode: 409, code: 'xid_exists' })
})

test('appVerify: no record, no token: a store outage rejects with StoreUnavailableError', async (t) => {
  const memory = createMemoryStore()
  const store: Store = { ...memory, transactions: { ...memory.transactions, record: async () => { throw new StoreUnavailableError() } } }
  const app = await buildTestApp(t, { store })
  await t.rejects(app.appVerify.issueAppVerifyToken({ phone: phone('+15551234567'), xid: 'lost', issuedTo: 'public' }), StoreUnavailableError)
  t.equal(await app.appVerify.findTransaction('lost'), null)
})
