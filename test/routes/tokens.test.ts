import { test } from 'tap'
import { apiKeyId } from '../../lib/api-keys.js'
import { createHmac } from 'node:crypto'
import type { FastifyInstance } from 'fastify'
import { createMemoryStore } from '../../plugins/store/memory.js'
import { StoreUnavailableError } from '../../lib/store.js'
import { API_KEY, OTHER_API_KEY, assertMatchesOpenApi, assertProblem, buildTestApp, decodeJwt, json, testConfig } from '../helper.js'

const key = { 'x-api-key': API_KEY }

async function genJwt (app: FastifyInstance, payload: Record<string, unknown> = {}, apiKey = API_KEY): Promise<string> {
  return String(json(await app.inject({ method: 'POST', url: '/gen-jwt', headers: { 'x-api-key': apiKey }, payload })).token)
}

async function introspect (app: FastifyInstance, token: unknown): Promise<Awaited<ReturnType<FastifyInstance['inject']>>> {
  return await app.inject({ method: 'POST', url: '/v1/tokens/introspect', headers: key, payload: { token } as object })
}

async function revoke (app: FastifyInstance, token: string, headers: Record<string, string> = key): Promise<Awaited<ReturnType<FastifyInstance['inject']>>> {
  return await app.inject({ method: 'POST', url: '/v1/tokens/revoke', headers, payload: { token } })
}

test('introspection reports an active token with its claims', async (t) => {
  const app = await buildTestApp(t)
  const token = await genJwt(app, { instance_id: 'device-7' })
  const { payload } = decodeJwt(token)
  const response = await introspect(app, token)
  t.equal(response.statusCode, 200)
  t.equal(response.headers['cache-control'], 'no-store')
  assertMatchesOpenApi(t, response, 'POST', '/v1/tokens/introspect')
  t.same(json(response), {
    active: true,
    sub: 'instance:device-7',
    iss: 'tokenmint',
    aud: 'tokenmint',
    iat: payload.iat,
    exp: payload.exp,
    jti: payload.jti,
    token_type: 'Bearer',
    instance_id: 'device-7',
    client_id: apiKeyId(API_KEY)
  })
  t.equal(payload.client_id, apiKeyId(API_KEY), 'the token names the API client that minted it (RFC 9068)')

  await app.inject({ method: 'POST', url: '/v1/users', headers: key, payload: { username: 'alice', password: 'correct horse battery' } })
  const loginToken = String(json(await app.inject({ method: 'POST', url: '/v1/auth/login', payload: { username: 'alice', password: 'correct horse battery' } })).token)
  t.match(json(await introspect(app, loginToken)), { active: true, sub: 'user:alice', username: 'alice', amr: ['pwd'] })
})

test('a revoked token fails on /v1/me and introspects as inactive', async (t) => {
  const app = await buildTestApp(t)
  const token = await genJwt(app)
  const auth = { authorization: `Bearer ${token}` }
  t.equal((await app.inject({ url: '/v1/me', headers: auth })).statusCode, 200)

  const revoked = await revoke(app, token)
  t.equal(revoked.statusCode, 200)
  t.same(json(revoked), {})
  assertMatchesOpenApi(t, revoked, 'POST', '/v1/tokens/revoke')

  const refused = await app.inject({ url: '/v1/me', headers: auth })
  assertProblem(t, refused, 401, 'token_revoked')
  t.equal(refused.headers['www-authenticate'], 'Bearer error="invalid_token"')
  assertMatchesOpenApi(t, refused, 'GET', '/v1/me')
  t.same(json(await introspect(app, token)), { active: false })
  t.same(json(await revoke(app, token)), {}, 'revoking again is still 200 {}')

  const { payload } = decodeJwt(token)
  t.ok(await app.store.revocations.isRevoked(String(payload.jti)), 'stored by jti')
})

test('invalid, expired and foreign tokens: revoke answers 200 {}, introspect {active:false}', async (t) => {
  const config = testConfig()
  const app = await buildTestApp(t, { config })
  const token = await genJwt(app)
  const { header, payload } = decodeJwt(token)
  const now = Math.floor(Date.now() / 1000)
  const sign = (claims: Record<string, unknown>): string => {
    const input = `${Buffer.from(JSON.stringify(header)).toString('base64url')}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}`
    return `${input}.${createHmac('sha256', config.jwt.secret).update(input).digest('base64url')}`
  }
  const expired = sign({ ...payload, iat: now - 400, exp: now - 100 })
  const foreign = await genJwt(await buildTestApp(t))
  for (const bad of ['garbage', 'a.b.c', expired, foreign, `${token}x`, 'x'.repeat(8000)]) {
    t.same(json(await introspect(app, bad)), { active: false })
    const response = await revoke(app, bad)
    t.equal(response.statusCode, 200)
    t.same(json(response), {})
  }
  assertProblem(t, await introspect(app, 12345), 400, 'invalid_request')
  assertProblem(t, await app.inject({ method: 'POST', url: '/v1/tokens/revoke', headers: key, payload: { token, extra: 1 } }), 400, 'invalid_request')
  t.equal((await app.inject({ method: 'POST', url: '/v1/tokens/revoke', headers: key, payload: { token: 'x', token_type_hint: 'access_token' } })).statusCode, 200)
})

test('a Bearer caller revokes its own tokens only; introspection needs the API key', async (t) => {
  const app = await buildTestApp(t)
  const mine = await genJwt(app, { instance_id: 'a' })
  const mySecond = await genJwt(app, { instance_id: 'a' })
  const theirs = await genJwt(app, { instance_id: 'b' })
  const bearer = { authorization: `Bearer ${mine}`, 'x-instance-id': 'a' }

  t.same(json(await revoke(app, theirs, bearer)), {}, 'same answer for a token of another subject')
  t.equal((await app.inject({ url: '/v1/me', headers: { authorization: `Bearer ${theirs}`, 'x-instance-id': 'b' } })).statusCode, 200, 'and no effect')

  t.same(json(await revoke(app, mySecond, bearer)), {})
  assertProblem(t, await app.inject({ url: '/v1/me', headers: { authorization: `Bearer ${mySecond}`, 'x-instance-id': 'a' } }), 401, 'token_revoked')
  t.same(json(await revoke(app, mine, bearer)), {}, 'a token may revoke itself')
  assertProblem(t, await revoke(app, mine, bearer), 401, 'token_revoked')

  assertProblem(t, await app.inject({ method: 'POST', url: '/v1/tokens/introspect', headers: { authorization: `Bearer ${theirs}` }, payload: { token: theirs } }), 401, 'invalid_api_key')
  assertProblem(t, await app.inject({ method: 'POST', url: '/v1/tokens/revoke', payload: { token: theirs } }), 401, 'missing_token')
  t.same(json(await revoke(app, theirs, { 'x-api-key': OTHER_API_KEY })), {}, 'any API key may revoke')
  t.same(json(await introspect(app, theirs)), { active: false })
})

test('a revocation on one instance is honoured by every instance sharing the store', async (t) => {
  const store = createMemoryStore()
  t.teardown(() => store.close())
  const env = { JWT_SECRET: Buffer.alloc(32, 7).toString('base64') }
  const first = await buildTestApp(t, { store, env })
  const second = await buildTestApp(t, { store, env })
  const token = await genJwt(first)
  t.equal((await second.inject({ url: '/v1/me', headers: { authorization: `Bearer ${token}` } })).statusCode, 200)
  await revoke(first, token)
  assertProblem(t, await second.inject({ url: '/v1/me', headers: { authorization: `Bearer ${token}` } }), 401, 'token_revoked')
  t.same(json(await introspect(second, token)), { active: false })
})

test('an unreachable store is 503 on protected routes and introspection, never 500 or a silent pass', async (t) => {
  const store = createMemoryStore()
  t.teardown(() => store.close())
  const app = await buildTestApp(t, { store })
  const token = await genJwt(app)
  store.revocations.isRevoked = async () => { throw new StoreUnavailableError() }
  const me = await app.inject({ url: '/v1/me', headers: { authorization: `Bearer ${token}` } })
  assertProblem(t, me, 503, 'store_unavailable')
  t.ok(me.headers['retry-after'])
  assertProblem(t, await introspect(app, token), 503, 'store_unavailable')
  assertProblem(t, await revoke(app, token), 503, 'store_unavailable')
})
