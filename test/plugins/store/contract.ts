import type { Test } from 'tap'
import { DuplicateKeyError } from '../../../lib/store.js'
import type { Store } from '../../../lib/store.js'
import { transactionsContract } from './transactions.contract.js'
import { verificationsContract } from './verifications.contract.js'
import { lifecycleContract } from './lifecycle.contract.js'

export type MakeStore = () => Promise<Store>

/**
 * The behaviour both store implementations promise. Run against the memory store always
 * (memory.test.ts) and against MongoDB whenever MONGODB_URL is set (mongodb.test.ts).
 */
export async function storeContract (t: Test, makeStore: MakeStore): Promise<void> {
  await t.test('ping answers', async (t) => {
    const store = await makeStore()
    await t.resolves(store.ping())
  })

  await t.test('access tokens: record, unique jti while live, expiry frees the jti', async (t) => {
    const store = await makeStore()
    const now = Date.now()
    const record = {
      jti: `jti-${now}-${Math.random()}`,
      sub: 'instance:abc',
      instance_id: 'abc',
      issued_at: new Date(now - 1000),
      expires_at: new Date(now + 60_000)
    }
    await store.accessTokens.record(record)
    await t.rejects(store.accessTokens.record(record), DuplicateKeyError, 'a live jti is recorded once')
    await t.rejects(store.accessTokens.record({ ...record, sub: 'client:other' }), DuplicateKeyError, 'whatever else the record says')

    const generic = { jti: `${record.jti}-generic`, sub: 'client:abc', issued_at: new Date(now), expires_at: new Date(now + 60_000) }
    await store.accessTokens.record(generic)
    await t.rejects(store.accessTokens.record(generic), DuplicateKeyError)

    const expired = { ...record, jti: `${record.jti}-expired`, expires_at: new Date(now - 1) }
    await store.accessTokens.record(expired)
    await store.accessTokens.record({ ...expired, expires_at: new Date(now + 60_000) })
    t.pass('an expired jti counts as absent before any sweep')
    const results = await Promise.allSettled(Array.from({ length: 20 }, async () => await store.accessTokens.record({ ...generic, jti: `${record.jti}-race` })))
    t.equal(results.filter((r) => r.status === 'fulfilled').length, 1, 'of 20 concurrent records of one jti exactly one lands')
  })

  await t.test('keys that are not strings never reach a query', async (t) => {
    const store = await makeStore()
    const hostile = { $ne: null } as unknown as string
    await t.rejects(store.accessTokens.record({ jti: hostile, sub: 'x', issued_at: new Date(), expires_at: new Date(Date.now() + 60_000) }))
    await t.rejects(store.revocations.isRevoked(hostile))
    await t.rejects(store.dpopProofs.use(hostile, new Date(Date.now() + 60_000)))
  })

  await transactionsContract(t, makeStore)
  await verificationsContract(t, makeStore)
  await lifecycleContract(t, makeStore)
}
