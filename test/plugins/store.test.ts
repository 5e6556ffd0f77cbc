import { test } from 'tap'
import { VERSION } from '../../lib/version.js'
import { API_KEY, assertProblem, buildTestApp, json } from '../helper.js'

// A MongoDB that does not answer: port 1 on loopback refuses every connection.
const UNREACHABLE = 'mongodb://127.0.0.1:1/?directConnection=true'

test('with MONGODB_URL unreachable the service starts, reports not ready, and answers 503 without minting', async (t) => {
  const app = await buildTestApp(t, { env: { MONGODB_URL: UNREACHABLE, MONGODB_DATABASE: 'tokenmint_test' } })
  t.equal(app.store.kind, 'mongodb')
  t.equal(app.mongo.db?.databaseName, 'tokenmint_test', 'the database comes from MONGODB_DATABASE')

  const started = Date.now()
  const ready = await app.inject({ url: '/health/ready' })
  assertProblem(t, ready, 503, 'store_unavailable')
  t.ok(ready.headers['retry-after'])
  t.ok(Date.now() - started < 5_000, 'readiness answers within a few seconds')
  t.same(json(await app.inject({ url: '/health/live' })), { status: 'ok', version: VERSION })

  const issued = await app.inject({ method: 'POST', url: '/gen-jwt', headers: { 'x-api-key': API_KEY }, payload: { instance_id: 'abc' } })
  const body = assertProblem(t, issued, 503, 'store_unavailable')
  t.notOk('token' in body, 'no token exists that the store does not know about')
  t.notMatch(issued.body, /127\.0\.0\.1|mongodb:/, 'the database address does not leak')
})
