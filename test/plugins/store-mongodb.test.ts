import { test } from 'tap'
import type { FastifyInstance } from 'fastify'
import { API_KEY, assertProblem, buildTestApp, waitUntilReady } from '../helper.js'
import { startStandin } from '../mongo-standin.js'
import type { Standin } from '../mongo-standin.js'
import { MongoClient } from 'mongodb'
import { MONGO_CLIENT_OPTIONS, mongoUpkeep } from '../../plugins/store/mongodb-connection.js'
import { createMongoStore } from '../../plugins/store/mongodb.js'
import { INDEX_PLANS } from '../../plugins/store/mongodb/indexes.js'
import type { MongoStore } from '../../plugins/store/mongodb.js'
import { StoreUnavailableError } from '../../lib/store.js'

// MongoDB's connection life, played by the wire-level stand-in (test/mongo-standin.ts) behind the
// real driver and the real app: down at boot, down later, back again, stalled, failing, and
// indexes that cannot be created.

const DB = 'tokenmint_life'

async function mongoApp (t: Parameters<typeof buildTestApp>[0], standin: Standin): Promise<FastifyInstance> {
  return await buildTestApp(t, { env: { MONGODB_URL: standin.url, MONGODB_DATABASE: DB } })
}

async function mint (app: FastifyInstance): Promise<Awaited<ReturnType<FastifyInstance['inject']>>> {
  return await app.inject({ method: 'POST', url: '/gen-jwt', headers: { 'x-api-key': API_KEY }, payload: { instance_id: 'device-1' } })
}

async function stoppedStandin (t: Parameters<typeof buildTestApp>[0]): Promise<Standin> {
  const standin = await startStandin()
  t.teardown(() => standin.stop())
  await standin.stop()
  return standin
}

test('MongoDB down at boot: not ready, 503 without a token; once it comes up the instance uses it within seconds', async (t) => {
  const standin = await stoppedStandin(t)
  const app = await mongoApp(t, standin)
  assertProblem(t, await app.inject({ url: '/health/ready' }), 503, 'store_unavailable')
  const refused = await mint(app)
  assertProblem(t, refused, 503, 'store_unavailable')
  t.notMatch(refused.body, /token"|127\.0\.0\.1|mongodb/i)
  // Long enough for the driver's first implicit connect to have failed and closed its topology.
  await new Promise((resolve) => setTimeout(resolve, 2_500))
  assertProblem(t, await mint(app), 503, 'store_unavailable')

  await standin.start()
  const started = Date.now()
  await waitUntilReady(app, 15_000)
  t.ok(Date.now() - started < 15_000, `ready ${Date.now() - started} ms after MongoDB came up`)
  t.equal((await mint(app)).statusCode, 200, 'device tokens are minted and their sessions recorded once MongoDB answers')
  t.equal(standin.collection(DB, 'refresh_tokens').docs.length, 1)
})

test('MongoDB down later and back again: 503 while down, served again after, without a restart', async (t) => {
  const standin = await startStandin()
  t.teardown(() => standin.stop())
  const app = await mongoApp(t, standin)
  await waitUntilReady(app)
  t.equal((await mint(app)).statusCode, 200)

  await standin.stop()
  const started = Date.now()
  assertProblem(t, await mint(app), 503, 'store_unavailable')
  t.ok(Date.now() - started < 5_000, `the outage is a 503 within ${Date.now() - started} ms`)
  assertProblem(t, await app.inject({ url: '/health/ready' }), 503, 'store_unavailable')
  t.equal((await app.inject({ url: '/health/live' })).statusCode, 200, 'liveness does not depend on the store')

  await standin.start()
  await waitUntilReady(app, 15_000)
  t.equal((await mint(app)).statusCode, 200)
})

test('a stalled MongoDB operation becomes a 503 within seconds, and the next one is served', async (t) => {
  const standin = await startStandin()
  t.teardown(() => standin.stop())
  const app = await mongoApp(t, standin)
  await waitUntilReady(app)
  standin.stalled.add('insert')
  const started = Date.now()
  const stalled = await mint(app)
  const took = Date.now() - started
  assertProblem(t, stalled, 503, 'store_unavailable')
  t.ok(took < 8_000, `a stalled write ended as 503 after ${took} ms`)
  standin.stalled.delete('insert')
  await waitUntilReady(app, 10_000)
  t.equal((await mint(app)).statusCode, 200)
})

test('transient server errors are 503 with Retry-After, never 500', async (t) => {
  const standin = await startStandin()
  t.teardown(() => standin.stop())
  const app = await mongoApp(t, standin)
  await waitUntilReady(app)
  const transient = [
    { code: 91, codeName: 'ShutdownInProgress' },
    { code: 10107, codeName: 'NotWritablePrimary' },
    { code: 50, codeName: 'MaxTimeMSExpired' },
    { code: 11600, codeName: 'InterruptedAtShutdown' },
    { code: 189, codeName: 'PrimarySteppedDown' },
    { code: 64, codeName: 'WriteConcernTimeout' },
    { code: 112, codeName: 'WriteConflict', labels: ['TransientTransactionError'] }
  ]
  for (const error of transient) {
    standin.failNext('insert', error)
    const answer = await mint(app)
    assertProblem(t, answer, 503, 'store_unavailable')
    t.ok(Number(answer.headers['retry-after']) > 0, `${error.codeName}: Retry-After`)
    t.notMatch(answer.body, error.codeName, 'no driver vocabulary in the body')
    await waitUntilReady(app, 10_000)
  }
  t.equal((await mint(app)).statusCode, 200)
})

test('a unique index that cannot be created keeps the instance not ready and refuses unique-key writes; each index is reported by name and cause', async (t) => {
  const standin = await startStandin()
  t.teardown(() => standin.stop())
  const tokens = standin.collection(DB, 'tokens')
  const duplicate = { xid: 'same-xid', phone_number: '+15551234567', token_sha256: 'a'.repeat(64), issued_at: new Date(), expires_at: new Date(Date.now() + 60_000), issued_to: 'public' }
  tokens.docs.push({ ...duplicate, _id: 'one' }, { ...duplicate, _id: 'two' })
  const app = await mongoApp(t, standin)
  await new Promise((resolve) => setTimeout(resolve, 500))

  assertProblem(t, await app.inject({ url: '/health/ready' }), 503, 'store_unavailable')
  const user = await app.inject({ method: 'POST', url: '/v1/users', headers: { 'x-api-key': API_KEY }, payload: { username: 'dave', password: 'correct horse battery' } })
  assertProblem(t, user, 503, 'store_unavailable')
  t.equal(standin.collection(DB, 'users').docs.length, 0, 'no user was written without its unique index')

  const report = await (app.store as MongoStore).ensureIndexes()
  t.same(report.failures.map((failure) => [failure.plan.collection, failure.plan.name]), [['tokens', 'xid_unique']], 'only the index that cannot exist fails')
  t.match(report.failures[0]?.reason, /duplicate keys/)
  t.ok(standin.collection(DB, 'users').indexes.some((index) => index.name === 'username_unique'), 'the other indexes were created regardless')

  tokens.docs.splice(1, 1)
  await waitUntilReady(app, 20_000)
  t.equal((await app.inject({ method: 'POST', url: '/v1/users', headers: { 'x-api-key': API_KEY }, payload: { username: 'dave', password: 'correct horse battery' } })).statusCode, 201)
  const again = await app.inject({ method: 'POST', url: '/v1/users', headers: { 'x-api-key': API_KEY }, payload: { username: 'dave', password: 'correct horse battery' } })
  assertProblem(t, again, 409, 'user_exists')
})

test('a changed TTL is applied with collMod; an index with other options is reported, not replaced', async (t) => {
  const standin = await startStandin()
  const client = new MongoClient(standin.url, MONGO_CLIENT_OPTIONS)
  t.teardown(async () => {
    await client.close()
    await standin.stop()
  })
  standin.collection(DB, 'tokens').indexes.push({ name: 'expires_at_retention', key: { expires_at: 1 }, expireAfterSeconds: 60 })
  standin.collection(DB, 'users').indexes.push({ name: 'username_unique', key: { username: 1 } })
  standin.collection(DB, 'revocations').indexes.push({ name: 'jti_by_hand', key: { jti: 1 } })
  const store = createMongoStore({ db: client.db(DB) })
  const report = await store.ensureIndexes()
  t.same(report.ttlUpdated, ['tokens.expires_at_retention'])
  const retention = standin.collection(DB, 'tokens').indexes.find((index) => index.name === 'expires_at_retention')
  t.equal(retention?.expireAfterSeconds, 30 * 86_400, 'the TTL now matches the plan')
  t.same(report.failures.map((failure) => `${failure.plan.collection}.${failure.plan.name}`), ['users.username_unique', 'revocations.jti_unique'])
  t.match(report.failures[0]?.reason, /an index with this name exists with other options/)
  t.match(report.failures[1]?.reason, /another index covers the same key with other options/)
  t.equal(store.indexesReady, false)
  await t.rejects(store.ping(), StoreUnavailableError)

  const drop = (collection: string, name: string): void => {
    const indexes = standin.collection(DB, collection).indexes
    indexes.splice(indexes.findIndex((index) => index.name === name), 1)
  }
  drop('users', 'username_unique')
  drop('revocations', 'jti_by_hand')
  const fixed = await store.ensureIndexes()
  t.same(fixed.failures, [])
  t.same(fixed.ttlUpdated, [], 'the TTL is changed once')
  t.equal(store.indexesReady, true)
  await t.resolves(store.ping())
})

test('the upkeep logs an outage once with a plain cause, then each missing index by name and cause, then readiness', async (t) => {
  const standin = await stoppedStandin(t)
  const client = new MongoClient(standin.url, MONGO_CLIENT_OPTIONS)
  t.teardown(() => client.close())
  const lines: Array<{ level: string, fields: Record<string, unknown>, msg: string }> = []
  const log = Object.fromEntries(['info', 'warn', 'error'].map((level) => [level, (fields: Record<string, unknown>, msg: string) => { lines.push({ level, fields, msg }) }]))
  const store = createMongoStore({ db: client.db(DB) })
  const upkeep = mongoUpkeep(client, store, log as never)
  t.teardown(() => { upkeep.stop() })
  upkeep.start()
  await new Promise((resolve) => setTimeout(resolve, 7_000))
  const outages = lines.filter((line) => line.msg === 'MongoDB is unreachable; retrying')
  t.equal(outages.length, 1, 'several failed connects, one log line')
  t.equal(outages[0]?.fields.cause, 'no MongoDB server answered within the server selection timeout')
  t.notMatch(JSON.stringify(lines), /Mongo[A-Z][a-zA-Z]*Error|127\.0\.0\.1/, 'no driver class names or hosts in the log')

  const duplicate = { key: 'same', count: 1, resets_at: new Date(Date.now() + 60_000) }
  standin.collection(DB, 'login_attempts').docs.push({ ...duplicate, _id: 'a' }, { ...duplicate, _id: 'b' })
  await standin.start()
  const deadline = Date.now() + 15_000
  while (!lines.some((line) => line.level === 'error') && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100))
  t.match(lines.find((line) => line.level === 'error'), { msg: 'MongoDB index is missing: this instance stays not ready', fields: { collection: 'login_attempts', index: 'key_unique', reason: /duplicate keys/ } })
  t.equal(store.indexesReady, false)

  standin.collection(DB, 'login_attempts').docs.pop()
  while (!store.indexesReady && Date.now() < deadline + 15_000) await new Promise((resolve) => setTimeout(resolve, 100))
  t.equal(store.indexesReady, true)
  t.match(lines.at(-1), { level: 'info', msg: 'MongoDB is connected and every index is in place', fields: { indexes: INDEX_PLANS.length } })
})
