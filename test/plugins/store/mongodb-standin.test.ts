import { test } from 'tap'
import { MongoClient } from 'mongodb'
import { createMongoStore } from '../../../plugins/store/mongodb.js'
import { startStandin } from '../../mongo-standin.js'
import { storeContract } from './contract.js'

// The real driver over a real socket to the wire-level stand-in (test/mongo-standin.ts): the
// queries run as MongoDB would run them, which recorded calls alone cannot show.
test('MongoDB store keeps the store contract through the driver, against the wire-level stand-in', async (t) => {
  const standin = await startStandin()
  const client = new MongoClient(standin.url, { serverSelectionTimeoutMS: 2_000 })
  await client.connect()
  t.teardown(async () => {
    await client.close()
    await standin.stop()
  })
  let databases = 0
  await storeContract(t, async () => {
    const store = createMongoStore({ db: client.db(`contract_${databases++}`) })
    await store.ensureIndexes()
    return store
  })
  t.ok((standin.counts.get('findAndModify') ?? 0) > 10 && (standin.counts.get('update') ?? 0) > 10, 'the contract ran over the wire')
})
