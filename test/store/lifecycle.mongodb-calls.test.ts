import { test } from 'tap'
import { MongoNetworkError, MongoServerError } from 'mongodb'
import type { Db } from 'mongodb'
import { createMongoStore } from '../../plugins/store/mongodb.js'
import { DuplicateKeyError, StoreUnavailableError } from '../../plugins/store/types.js'

// No MongoDB server runs here (test/store/mongodb.test.ts runs the real contract when MONGODB_URL is set).
// These tests pin the exact driver calls: the atomic conditions must sit in the filters.

interface Call { collection: string, op: string, args: unknown[] }
type Handler = (call: Call) => unknown

function fakeDb (handler: Handler): { db: Db, calls: Call[] } {
  const calls: Call[] = []
  const db = {
    collection: (collection: string) => new Proxy({}, {
      get: (_target, op: string) => async (...args: unknown[]) => {
        const call = { collection, op, args }
        calls.push(call)
        return await handler(call)
      }
    })
  }
  return { db: db as unknown as Db, calls }
}

const duplicate = (): MongoServerError => new MongoServerError({ message: 'E11000 duplicate key error', code: 11000 })
const outage = (): MongoNetworkError => new MongoNetworkError('connection refused')

function storeWith (handler: Handler): { store: ReturnType<typeof createMongoStore>, calls: Call[] } {
  const { db, calls } = fakeDb(handler)
  return { store: createMongoStore({ client: {} as never, db }), calls }
}

test('ensureIndexes creates the unique and TTL indexes of every lifecycle collection', async (t) => {
  const { store, calls } = storeWith(() => undefined)
  await store.ensureIndexes()
  const indexes = calls.map((call) => [call.collection, JSON.stringify(call.args[0]), JSON.stringify(call.args[1] ?? null)].join(' '))
  t.match(indexes.join('\n'), /users \{"username":1\} \{"name":"username_unique","unique":true\}/)
  t.match(indexes.join('\n'), /revocations \[\{"key":\{"jti":1\},"name":"jti_unique","unique":true\},\{"key":\{"expires_at":1\},"name":"expires_at_ttl","expireAfterSeconds":0\}\]/)
  t.match(indexes.join('\n'), /dpop_proofs \[\{"key":\{"key":1\},"name":"key_unique","unique":true\},\{"key":\{"expires_at":1\},"name":"expires_at_ttl","expireAfterSeconds":0\}\]/)
  t.match(indexes.join('\n'), /login_attempts \[\{"key":\{"key":1\},"name":"key_unique","unique":true\},\{"key":\{"resets_at":1\},"name":"resets_at_ttl","expireAfterSeconds":0\}\]/)
})

test('users: insert, find, delete, and driver errors mapped', async (t) => {
  const user = { username: 'alice', user_id: 'u1', password_hash: 'h', created_at: new Date() }
  let next: unknown
  const { store, calls } = storeWith(() => {
    if (next instanceof Error) throw next
    return next
  })
  await store.users.create(user)
  t.same(calls.at(-1), { collection: 'users', op: 'insertOne', args: [user] })
  next = duplicate()
  await t.rejects(store.users.create(user), DuplicateKeyError)
  next = outage()
  await t.rejects(store.users.find('alice'), StoreUnavailableError)
  next = user
  t.same(await store.users.find('alice'), user)
  t.same(calls.at(-1)?.args, [{ username: 'alice' }, { projection: { _id: 0 } }])
  next = { deletedCount: 1 }
  t.equal(await store.users.delete('alice'), true)
  next = { deletedCount: 0 }
  t.equal(await store.users.delete('alice'), false)
  await t.rejects(store.users.find({ $ne: '' } as never), TypeError)
})

test('revocations: one upsert; a racing duplicate is success; lookups ignore expired entries', async (t) => {
  let next: unknown = { acknowledged: true }
  const { store, calls } = storeWith(() => {
    if (next instanceof Error) throw next
    return next
  })
  const expires = new Date(Date.now() + 60_000)
  await store.revocations.revoke('j1', expires)
  t.same(calls.at(-1)?.args, [{ jti: 'j1' }, { $setOnInsert: { jti: 'j1', expires_at: expires } }, { upsert: true }])
  next = duplicate()
  await t.resolves(store.revocations.revoke('j1', expires))
  next = outage()
  await t.rejects(store.revocations.revoke('j1', expires), StoreUnavailableError)
  next = { _id: 1 }
  t.equal(await store.revocations.isRevoked('j1'), true)
  const [filter] = calls.at(-1)?.args as [{ jti: string, expires_at: { $gt: Date } }]
  t.equal(filter.jti, 'j1')
  t.type(filter.expires_at.$gt, Date)
  next = null
  t.equal(await store.revocations.isRevoked('j1'), false)
})

test('replay cache: a conditional upsert; a duplicate key is a replay', async (t) => {
  let next: unknown = { acknowledged: true }
  const { store, calls } = storeWith(() => {
    if (next instanceof Error) throw next
    return next
  })
  const until = new Date(Date.now() + 60_000)
  t.equal(await store.dpopProofs.use('p1', until), true)
  const [filter, update, options] = calls.at(-1)?.args as [{ key: string, expires_at: { $lte: Date } }, unknown, unknown]
  t.equal(filter.key, 'p1')
  t.type(filter.expires_at.$lte, Date, 'only an expired entry may be overwritten')
  t.same(update, { $set: { expires_at: until } })
  t.same(options, { upsert: true })
  next = duplicate()
  t.equal(await store.dpopProofs.use('p1', until), false)
  next = outage()
  await t.rejects(store.dpopProofs.use('p1', until), StoreUnavailableError)
})

test('login attempts: one pipeline upsert per failure, retried once after a racing insert', async (t) => {
  const resetsAt = new Date(Date.now() + 60_000)
  const queue: unknown[] = []
  const { store, calls } = storeWith(() => {
    const next = queue.shift()
    if (next instanceof Error) throw next
    return next
  })
  queue.push({ count: 1, resets_at: resetsAt })
  t.same(await store.loginAttempts.fail('k', 60_000), { count: 1, resets_at: resetsAt })
  const [filter, pipeline, options] = calls.at(-1)?.args as [unknown, Array<{ $set: Record<string, unknown> }>, Record<string, unknown>]
  t.same(filter, { key: 'k' })
  t.ok(Array.isArray(pipeline) && pipeline[0]?.$set.count !== undefined && pipeline[0]?.$set.resets_at !== undefined, 'an update pipeline sets count and resets_at')
  t.match(options, { upsert: true, returnDocument: 'after' })

  queue.push(duplicate(), { count: 2, resets_at: resetsAt })
  t.same(await store.loginAttempts.fail('k', 60_000), { count: 2, resets_at: resetsAt })
  t.equal(calls.filter((call) => call.op === 'findOneAndUpdate').length, 3)
  queue.push(outage())
  await t.rejects(store.loginAttempts.fail('k', 60_000), StoreUnavailableError)

  queue.push({ count: 2, resets_at: resetsAt, _ignored: true })
  t.same(await store.loginAttempts.get('k'), { count: 2, resets_at: resetsAt })
  queue.push(null)
  t.equal(await store.loginAttempts.get('k'), null)
  queue.push({ deletedCount: 1 })
  await store.loginAttempts.clear('k')
  t.same(calls.at(-1), { collection: 'login_attempts', op: 'deleteOne', args: [{ key: 'k' }] })
})
