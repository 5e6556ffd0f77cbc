import { test } from 'tap'
import { createMemoryStore } from '../../../plugins/store/memory.js'
import { storeContract } from './contract.js'

test('memory store keeps the store contract', async (t) => {
  await storeContract(t, async () => {
    const store = createMemoryStore()
    t.teardown(() => store.close())
    return store
  })
})
