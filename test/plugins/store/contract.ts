import type { Test } from 'tap'
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

  await t.test('keys that are not strings never reach a query', async (t) => {
    const store = await makeStore()
    const hostile = { $ne: null } as unknown as string
    await t.rejects(store.revocations.isRevoked(hostile))
    await t.rejects(store.dpopProofs.use(hostile, new Date(Date.now() + 60_000)))
  })

  await transactionsContract(t, makeStore)
  await verificationsContract(t, makeStore)
  await lifecycleContract(t, makeStore)
}
