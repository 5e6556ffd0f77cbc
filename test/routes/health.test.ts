import { test } from 'tap'
import { createMemoryStore } from '../../plugins/store/memory.js'
import { StoreUnavailableError } from '../../plugins/store/types.js'
import { assertMatchesOpenApi, assertProblem, buildTestApp, json } from '../helper.js'

test('liveness and readiness answer ok with the store kind', async (t) => {
  const app = await buildTestApp(t)
  const live = await app.inject({ url: '/health/live' })
  t.same(json(live), { status: 'ok' })
  assertMatchesOpenApi(t, live, 'GET', '/health/live')
  const ready = await app.inject({ url: '/health/ready' })
  t.same(json(ready), { status: 'ok', store: 'memory' })
  assertMatchesOpenApi(t, ready, 'GET', '/health/ready')
})

test('readiness is 503 store_unavailable with Retry-After when the store does not answer', async (t) => {
  const memory = createMemoryStore()
  t.teardown(() => memory.close())
  const app = await buildTestApp(t, { store: { ...memory, kind: 'memory', ping: async () => { throw new StoreUnavailableError() }, close: () => memory.close() } })
  const response = await app.inject({ url: '/health/ready' })
  assertProblem(t, response, 503, 'store_unavailable')
  t.equal(response.headers['retry-after'], '5')
  assertMatchesOpenApi(t, response, 'GET', '/health/ready')
  t.equal((await app.inject({ url: '/health/live' })).statusCode, 200, 'liveness does not depend on the store')
})
