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

  await t.test('access tokens: record, find, unique jti, expiry', async (t) => {
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
    t.same(await store.accessTokens.find(record.jti), record)
    await t.rejects(store.accessTokens.record(record), DuplicateKeyError)

    const generic = { jti: `${record.jti}-generic`, sub: 'client:abc', issued_at: new Date(now), expires_at: new Date(now + 60_000) }
    await store.accessTokens.record(generic)
    t.same(await store.accessTokens.find(generic.jti), generic, 'no instance_id appears when none was recorded')

    const expired = { ...record, jti: `${record.jti}-expired`, expires_at: new Date(now - 1) }
    await store.accessTokens.record(expired)
    t.equal(await store.accessTokens.find(expired.jti), null, 'an expired token is not found')
    t.equal(await store.accessTokens.find('no-such-jti'), null)
  })

  await t.test('keys that are not strings never reach a query', async (t) => {
    const store = await makeStore()
    const hostile = { $ne: null } as unknown as string
    await t.rejects(store.accessTokens.find(hostile))
  })

  await transactionsContract(t, makeStore)
  await verificationsContract(t, makeStore)
  await lifecycleContract(t, makeStore)
}
