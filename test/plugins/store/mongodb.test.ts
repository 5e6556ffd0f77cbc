import { test } from 'tap'
import { MongoClient } from 'mongodb'
import { createMongoStore } from '../../../plugins/store/mongodb.js'
import { storeContract } from './contract.js'

const url = process.env.MONGODB_URL

test('MongoDB store keeps the store contract', { skip: url === undefined ? 'MONGODB_URL is not set: no MongoDB server to test against (set it to run the Mongo half of the contract)' : false }, async (t) => {
  const client = new MongoClient(url as string, { serverSelectionTimeoutMS: 5_000 })
  await client.connect()
  const db = client.db(`tokenmint_test_${process.pid}_${Date.now()}`)
  t.teardown(async () => {
    await db.dropDatabase()
    await client.close()
  })
  await storeContract(t, async () => {
    const store = createMongoStore({ db })
    await store.ensureIndexes()
    return store
  })
})
