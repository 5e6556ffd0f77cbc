import { test } from 'tap'
import { createMemoryStore } from '../../../plugins/store/memory.js'
import { copyRecord } from '../../../plugins/store/memory/copy.js'
import { storeContract } from './contract.js'

test('memory store keeps the store contract', async (t) => {
  await storeContract(t, async () => {
    const store = createMemoryStore()
    t.teardown(() => store.close())
    return store
  })
})

test('the memory store holds each growing kind to maxRecords, dropping the oldest first', async (t) => {
  const store = createMemoryStore(Date.now, { maxRecords: 100 })
  t.teardown(() => store.close())
  const now = new Date()
  const later = new Date(now.getTime() + 3_600_000)
  for (let i = 0; i < 150; i++) {
    await store.transactions.record({ xid: `x-${i}`, phone_number: '+15551234567', token_sha256: 'a'.repeat(64), issued_at: now, expires_at: later, issued_to: 'public' })
    await store.refreshTokens.create({ hash: `h-${i}`, family_id: `f-${i}`, client_id: 'c', sub: 'instance:d', issued_at: now, expires_at: later, family_expires_at: later })
    await store.verifications.create({ id: `v-${i}`, auth_id: `a-${i}`, recipient: '+15551234567', code_hash: 'x', status: 'pending', attempts_left: 3, sends: 1, version: 0, created_at: now, last_sent_at: now, expires_at: later, purge_at: later })
    await store.webhookDeliveries.enqueue([{ id: `e-${i}:hook`, event_id: `e-${i}`, event_type: 'token.revoked', endpoint_id: 'hook', payload: '{}', status: 'pending', attempts: 0, next_attempt_at: later, created_at: now, purge_at: later }])
  }
  t.equal(await store.transactions.find('x-49'), null, 'the 50 oldest transactions are gone')
  t.match(await store.transactions.find('x-50'), { xid: 'x-50' })
  t.match(await store.transactions.find('x-149'), { xid: 'x-149' })
  t.equal(await store.refreshTokens.find('h-49', now), null, 'so are the oldest refresh tokens')
  t.match(await store.refreshTokens.find('h-50', now), { family_id: 'f-50' })
  t.equal(await store.verifications.find('a-49', now), null, 'and verifications')
  t.match(await store.verifications.find('a-149', now), { id: 'v-149' })
  t.equal((await store.webhookDeliveries.list({ limit: 1000 })).length, 100, 'and webhook deliveries')
  const unbounded = createMemoryStore()
  t.teardown(() => unbounded.close())
  for (let i = 0; i < 150; i++) await unbounded.transactions.record({ xid: `x-${i}`, phone_number: '+15551234567', token_sha256: 'a'.repeat(64), issued_at: now, expires_at: later, issued_to: 'public' })
  t.match(await unbounded.transactions.find('x-0'), { xid: 'x-0' }, 'the default (5,000) keeps all of these')
})

test('records go in and come out as copies: changing one never changes what is stored', async (t) => {
  const store = createMemoryStore()
  t.teardown(() => store.close())
  const now = new Date()
  const later = new Date(now.getTime() + 3_600_000)
  const record = { hash: 'h-copy', family_id: 'f', client_id: 'c', sub: 'user:a', amr: ['pwd'], issued_at: now, expires_at: later, family_expires_at: later }
  await store.refreshTokens.create(record)
  record.amr.push('otp')
  record.expires_at.setTime(0)
  const found = await store.refreshTokens.find('h-copy', now)
  t.same(found?.amr, ['pwd'], 'an array changed after create is not stored')
  t.equal(found?.expires_at.getTime(), now.getTime() + 3_600_000, 'nor a Date changed in place')
  t.ok(found?.issued_at instanceof Date, 'Dates come back as Dates')
  found?.amr?.push('mutated')
  t.same((await store.refreshTokens.find('h-copy', now))?.amr, ['pwd'], 'nor a change to a record read out')

  t.same(copyRecord({ a: [1, { b: 'c' }], d: null, e: undefined, f: Object.assign(Object.create(null), { g: 1 }) }), { a: [1, { b: 'c' }], d: null, e: undefined, f: { g: 1 } })
  const bytes = new Uint8Array([1, 2])
  const copied = copyRecord({ bytes })
  t.not(copied.bytes, bytes, 'other objects are copied through structuredClone')
  t.same([...copied.bytes], [1, 2])
})
