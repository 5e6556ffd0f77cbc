import { test } from 'tap'
import { VERSION } from '../../lib/version.js'
import { assertMatchesOpenApi, assertProblem, buildTestApp, json } from '../helper.js'
import { createMemoryStore } from '../../plugins/store/memory.js'
import { StoreUnavailableError } from '../../lib/store.js'
import type { Store } from '../../lib/store.js'

test('liveness and readiness on the memory store', async (t) => {
  const app = await buildTestApp(t)
  const live = await app.inject({ url: '/health/live' })
  t.equal(live.statusCode, 200)
  t.same(json(live), { status: 'ok', version: VERSION })
  assertMatchesOpenApi(t, live, 'GET', '/health/live')
  const ready = await app.inject({ url: '/health/ready' })
  t.equal(ready.statusCode, 200)
  t.same(json(ready), { status: 'ok', version: VERSION, store: 'memory' })
  assertMatchesOpenApi(t, ready, 'GET', '/health/ready')
  t.match(ready.headers['x-request-id'], /^[0-9a-f-]{36}$/)
})

test('readiness is 503 with Retry-After when the store does not answer; liveness stays 200', async (t) => {
  const healthy = createMemoryStore()
  const failing: Store = { ...healthy, async ping () { throw new StoreUnavailableError() } }
  const app = await buildTestApp(t, { store: failing })
  const ready = await app.inject({ url: '/health/ready' })
  assertProblem(t, ready, 503, 'store_unavailable')
  t.equal(ready.headers['retry-after'], '5')
  assertMatchesOpenApi(t, ready, 'GET', '/health/ready')
  t.equal((await app.inject({ url: '/health/live' })).statusCode, 200)
})

test('readiness gives up on a hanging store', async (t) => {
  const healthy = createMemoryStore()
  const hanging: Store = { ...healthy, ping: async () => await new Promise<void>(() => {}) }
  const app = await buildTestApp(t, { store: hanging })
  assertProblem(t, await app.inject({ url: '/health/ready' }), 503, 'store_unavailable')
})

test('a store outage while minting a device token (its refresh session) is 503 and returns no token; a generic token needs no store write', async (t) => {
  const healthy = createMemoryStore()
  const failing: Store = {
    ...healthy,
    refreshTokens: { ...healthy.refreshTokens, async create () { throw new StoreUnavailableError() } }
  }
  const app = await buildTestApp(t, { store: failing })
  const response = await app.inject({ method: 'POST', url: '/gen-jwt', headers: { 'x-api-key': 'test-api-key-0123456789abcdef' }, payload: { instance_id: 'device-1' } })
  const body = assertProblem(t, response, 503, 'store_unavailable')
  t.notOk('token' in body)
  t.ok(response.headers['retry-after'])
  assertMatchesOpenApi(t, response, 'POST', '/gen-jwt')
  const generic = await app.inject({ method: 'POST', url: '/gen-jwt', headers: { 'x-api-key': 'test-api-key-0123456789abcdef' }, payload: {} })
  t.equal(generic.statusCode, 200, 'a generic token is signed, not stored: revocation is a deny-list')
})

test('GET / sends browsers to /docs, and without docs answers where things are', async (t) => {
  const app = await buildTestApp(t)
  const root = await app.inject({ url: '/' })
  t.equal(root.statusCode, 302)
  t.equal(root.headers.location, '/docs')
  const bare = await buildTestApp(t, { env: { DOCS_ENABLED: 'false' } })
  const index = await bare.inject({ url: '/' })
  t.equal(index.statusCode, 200)
  t.same(json(index), { name: 'tokenmint', version: VERSION, openapi: 'openapi.yaml in the repository', health: '/health/ready', jwks: '/.well-known/jwks.json' })
  assertMatchesOpenApi(t, index, 'GET', '/')
  assertProblem(t, await bare.inject({ url: '/docs' }), 404, 'not_found')
  assertProblem(t, await bare.inject({ url: '/docs/json' }), 404, 'not_found')
})
