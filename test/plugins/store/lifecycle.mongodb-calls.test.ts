import { test } from 'tap'
import { MongoNetworkError, MongoServerError } from 'mongodb'
import type { Db } from 'mongodb'
import { createMongoStore } from '../../../plugins/store/mongodb.js'
import { INDEX_PLANS } from '../../../plugins/store/mongodb/indexes.js'
import { DuplicateKeyError, StoreUnavailableError } from '../../../lib/store.js'

// No MongoDB server runs here (test/plugins/store/mongodb.test.ts runs the real contract when MONGODB_URL is set).
// These tests pin the exact driver calls: the atomic conditions must sit in the filters.

interface Call { collection: string, op: string, args: unknown[] }
type Handler = (call: Call) => unknown

function fakeDb (handler: Handler): { db: Db, calls: Call[] } {
  const calls: Call[] = []
  const db = {
    command: async (...args: unknown[]) => {
      calls.push({ collection: '$cmd', op: 'command', args })
      return { ok: 1 }
    },
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

/** A store whose indexes were created (so its unique-key writes are open), with the calls recorded from then on. */
async function storeWith (handler: Handler): Promise<{ store: ReturnType<typeof createMongoStore>, calls: Call[] }> {
  const { db, calls } = fakeDb(handler)
  const store = createMongoStore({ db })
  await store.ensureIndexes()
  calls.length = 0
  return { store, calls }
}

test('ensureIndexes creates every planned index on its own, and only then opens the unique-key writes', async (t) => {
  const { db, calls } = fakeDb(() => undefined)
  const store = createMongoStore({ db })
  await t.rejects(store.users.create({ username: 'a', user_id: 'u', password_hash: 'h', created_at: new Date() }), StoreUnavailableError, 'no unique write before the indexes exist')
  await t.rejects(store.ping(), StoreUnavailableError, 'not ready before the indexes exist')
  t.equal(calls.filter((call) => call.op === 'insertOne').length, 0, 'nothing was written')
  const report = await store.ensureIndexes()
  t.equal(report.failures.length, 0)
  t.equal(store.indexesReady, true)
  const created = calls.filter((call) => call.op === 'createIndex')
  t.same(created.map((call) => [call.collection, call.args[0], call.args[1]]), INDEX_PLANS.map(({ collection, key, ...options }) => [collection, key, options]), 'one createIndex per plan, with its name and options')
  const text = created.map((call) => `${call.collection} ${JSON.stringify(call.args)}`).join('\n')
  for (const collection of ['tokens', 'verifications', 'users', 'revocations', 'dpop_proofs', 'login_attempts', 'refresh_tokens', 'webhook_deliveries']) {
    t.match(text, new RegExp(`${collection} \\[\\{"[a-z_]+":1\\},\\{"name":"[a-z_]+_unique","unique":true\\}\\]`), `${collection} has its unique index`)
  }
  await t.resolves(store.ping())
})

test('users: insert, find, delete, and driver errors mapped', async (t) => {
  const user = { username: 'alice', user_id: 'u1', password_hash: 'h', created_at: new Date() }
  let next: unknown
  const { store, calls } = await storeWith(() => {
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
  const { store, calls } = await storeWith(() => {
    if (next instanceof Error) throw next
    return next
  })
  const expires = new Date(Date.now() + 60_000)
  await store.revocations.revoke('j1', expires)
  const [filter, update, options] = calls.at(-1)?.args as [{ jti: string, expires_at: { $lte: Date } }, unknown, unknown]
  t.equal(filter.jti, 'j1')
  t.type(filter.expires_at.$lte, Date, 'only an expired entry may be overwritten')
  t.same([update, options], [{ $set: { expires_at: expires } }, { upsert: true }])
  next = duplicate()
  await t.resolves(store.revocations.revoke('j1', expires))
  next = outage()
  await t.rejects(store.revocations.revoke('j1', expires), StoreUnavailableError)
  next = { _id: 1 }
  t.equal(await store.revocations.isRevoked('j1'), true)
  const [lookup] = calls.at(-1)?.args as [{ jti: unknown, expires_at: { $gt: Date } }]
  t.same(lookup.jti, { $in: ['j1'] })
  t.type(lookup.expires_at.$gt, Date)
  t.equal(await store.revocations.isRevoked('j1', 'family:f1'), true)
  const [both] = calls.at(-1)?.args as [{ jti: unknown }]
  t.same(both.jti, { $in: ['j1', 'family:f1'] }, 'a token and its session in one lookup')
  next = null
  t.equal(await store.revocations.isRevoked('j1'), false)
})

test('replay cache: a conditional upsert; a duplicate key is a replay', async (t) => {
  let next: unknown = { acknowledged: true }
  const { store, calls } = await storeWith(() => {
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

test('login attempts: a reservation is one conditional pipeline upsert; a full window is refused by the unique key', async (t) => {
  const resetsAt = new Date(Date.now() + 60_000)
  const queue: unknown[] = []
  const { store, calls } = await storeWith(() => {
    const next = queue.shift()
    if (next instanceof Error) throw next
    return next
  })
  queue.push({ count: 1, resets_at: resetsAt })
  t.same(await store.loginAttempts.reserve('k', 5, 60_000), { reserved: true, window: { count: 1, resets_at: resetsAt } })
  const [filter, pipeline, options] = calls.at(-1)?.args as [{ key: string, $or: Array<Record<string, unknown>> }, Array<{ $set: Record<string, unknown> }>, Record<string, unknown>]
  t.equal(filter.key, 'k')
  t.same(filter.$or[1], { count: { $lt: 5 } }, 'the limit is in the filter: a full window does not match')
  t.type((filter.$or[0]?.resets_at as { $lte: Date }).$lte, Date, 'an ended window matches and restarts')
  t.ok(Array.isArray(pipeline) && pipeline[0]?.$set.count !== undefined && pipeline[0]?.$set.resets_at !== undefined, 'an update pipeline sets count and resets_at')
  t.match(options, { upsert: true, returnDocument: 'after' })

  queue.push(duplicate(), { count: 2, resets_at: resetsAt })
  t.same(await store.loginAttempts.reserve('k', 5, 60_000), { reserved: true, window: { count: 2, resets_at: resetsAt } }, 'a racing first insert is tried once more')
  queue.push(duplicate(), duplicate(), { count: 5, resets_at: resetsAt })
  t.same(await store.loginAttempts.reserve('k', 5, 60_000), { reserved: false, window: { count: 5, resets_at: resetsAt } }, 'refused twice by the unique key: the window is full')
  queue.push(outage())
  await t.rejects(store.loginAttempts.reserve('k', 5, 60_000), StoreUnavailableError)

  queue.push({ count: 2, resets_at: resetsAt, _ignored: true })
  t.same(await store.loginAttempts.get('k'), { count: 2, resets_at: resetsAt })
  queue.push(null)
  t.equal(await store.loginAttempts.get('k'), null)
  queue.push({ modifiedCount: 1 })
  await store.loginAttempts.release('k')
  t.same(calls.at(-1), { collection: 'login_attempts', op: 'updateOne', args: [{ key: 'k', count: { $gt: 0 } }, { $inc: { count: -1 } }] })
  queue.push({ deletedCount: 1 })
  await store.loginAttempts.clear('k')
  t.same(calls.at(-1), { collection: 'login_attempts', op: 'deleteOne', args: [{ key: 'k' }] })
})
