import { test } from 'tap'
import { createHmac } from 'node:crypto'
import { API_KEY, assertMatchesOpenApi, assertProblem, buildTestApp, decodeJwt, json, testConfig } from '../helper.js'

test('POST /gen-jwt with instance_id mints a device-bound token that /v1/me accepts with X-Instance-Id', async (t) => {
  const app = await buildTestApp(t)
  const issued = await app.inject({ method: 'POST', url: '/gen-jwt', headers: { 'x-api-key': API_KEY }, payload: { instance_id: '123445' } })
  t.equal(issued.statusCode, 200)
  assertMatchesOpenApi(t, issued, 'POST', '/gen-jwt')
  const body = json(issued)
  t.equal(body.token_type, 'Bearer')
  t.equal(body.expires_in, 300)
  t.equal(body.instance_id, '123445')
  const { header, payload } = decodeJwt(String(body.token))
  t.same(Object.keys(header).sort(), ['alg', 'kid', 'typ'])
  t.equal(header.typ, 'at+jwt')
  t.equal(header.alg, 'HS256')
  t.equal(payload.sub, 'instance:123445')
  t.equal(payload.instance_id, '123445')
  t.equal(payload.iss, 'tokenmint')
  t.equal(payload.aud, 'tokenmint')
  t.equal((payload.exp as number) - (payload.iat as number), 300)
  t.equal(new Date(String(body.expires_at)).getTime(), (payload.exp as number) * 1000)

  const me = await app.inject({ url: '/v1/me', headers: { authorization: `Bearer ${String(body.token)}`, 'x-instance-id': '123445' } })
  t.equal(me.statusCode, 200)
  assertMatchesOpenApi(t, me, 'GET', '/v1/me')
  t.same(json(me), { sub: 'instance:123445', instance_id: '123445', iat: payload.iat, exp: payload.exp, jti: payload.jti })

  for (const headers of [{}, { 'x-instance-id': '999' }, { 'x-instance-id': '123445 ' }]) {
    const mismatch = await app.inject({ url: '/v1/me', headers: { authorization: `Bearer ${String(body.token)}`, ...headers } })
    assertProblem(t, mismatch, 401, 'device_mismatch')
    t.equal(mismatch.headers['www-authenticate'], 'Bearer error="invalid_token"')
    assertMatchesOpenApi(t, mismatch, 'GET', '/v1/me')
  }
})

test('POST /gen-jwt with {} or no body mints a generic client token', async (t) => {
  const app = await buildTestApp(t)
  for (const request of [{ payload: {} }, {}]) {
    const issued = await app.inject({ method: 'POST', url: '/gen-jwt', headers: { 'x-api-key': API_KEY }, ...request })
    t.equal(issued.statusCode, 200)
    const body = json(issued)
    t.notOk('instance_id' in body)
    const { payload } = decodeJwt(String(body.token))
    t.match(payload.sub, /^client:[0-9a-f]{12}$/)
    t.notOk('instance_id' in payload)
    const me = await app.inject({ url: '/v1/me', headers: { authorization: `Bearer ${String(body.token)}` } })
    t.equal(me.statusCode, 200)
    t.equal(json(me).sub, payload.sub)
  }
})

test('every token has a unique jti', async (t) => {
  const app = await buildTestApp(t)
  const jtis = new Set<string>()
  for (let i = 0; i < 20; i++) {
    const issued = await app.inject({ method: 'POST', url: '/gen-jwt', headers: { 'x-api-key': API_KEY }, payload: { instance_id: `device-${i}` } })
    const { payload } = decodeJwt(String(json(issued).token))
    jtis.add(String(payload.jti))
    t.equal(payload.sub, `instance:device-${i}`)
  }
  t.equal(jtis.size, 20)
})

test('JWT_EXPIRE_SECONDS, JWT_ISSUER and JWT_AUDIENCE shape the claims', async (t) => {
  const app = await buildTestApp(t, { env: { JWT_EXPIRE_SECONDS: '60', JWT_ISSUER: 'issuer-x', JWT_AUDIENCE: 'aud-y' } })
  const issued = await app.inject({ method: 'POST', url: '/gen-jwt', headers: { 'x-api-key': API_KEY }, payload: {} })
  const { payload } = decodeJwt(String(json(issued).token))
  t.equal((payload.exp as number) - (payload.iat as number), 60)
  t.equal(payload.iss, 'issuer-x')
  t.equal(payload.aud, 'aud-y')
  t.equal(json(issued).expires_in, 60)
})

test('a missing or wrong API key is 401 invalid_api_key', async (t) => {
  const app = await buildTestApp(t)
  for (const headers of [{}, { 'x-api-key': 'wrong-key-wrong-key' }, { 'x-api-key': '' }, { authorization: 'Bearer abc' }]) {
    const response = await app.inject({ method: 'POST', url: '/gen-jwt', headers, payload: {} })
    assertProblem(t, response, 401, 'invalid_api_key')
    assertMatchesOpenApi(t, response, 'POST', '/gen-jwt')
  }
})

test('bad bodies are 400/413/415 problems and mint nothing', async (t) => {
  const app = await buildTestApp(t)
  const headers = { 'x-api-key': API_KEY }
  const cases: Array<[unknown, string]> = [
    [{ instance_id: 123445 }, 'number instance_id'],
    [{ instance_id: '' }, 'empty instance_id'],
    [{ instance_id: 'x'.repeat(257) }, 'too long instance_id'],
    [{ instance_id: ['a'] }, 'array instance_id'],
    [{ instance_id: { $gt: '' } }, 'operator object'],
    [{ extra: true }, 'unknown property'],
    [[], 'array body'],
    ['"string"', 'string body']
  ]
  for (const [payload, name] of cases) {
    const response = await app.inject({ method: 'POST', url: '/gen-jwt', headers: { ...headers, 'content-type': 'application/json' }, payload: typeof payload === 'string' ? payload : JSON.stringify(payload) })
    assertProblem(t, response, 400, 'invalid_request')
    t.comment(name)
  }
  assertProblem(t, await app.inject({ method: 'POST', url: '/gen-jwt', headers: { ...headers, 'content-type': 'application/json' }, payload: '{"instance_id":' }), 400, 'malformed_json')
  assertProblem(t, await app.inject({ method: 'POST', url: '/gen-jwt', headers: { ...headers, 'content-type': 'application/json' }, payload: '{"__proto__":{"admin":true}}' }), 400, 'invalid_request')
  assertProblem(t, await app.inject({ method: 'POST', url: '/gen-jwt', headers: { ...headers, 'content-type': 'application/json' }, payload: '{"constructor":{"prototype":{"admin":true}}}' }), 400, 'invalid_request')
  assertProblem(t, await app.inject({ method: 'POST', url: '/gen-jwt', headers: { ...headers, 'content-type': 'text/plain' }, payload: 'instance_id=1' }), 415, 'unsupported_media_type')
  const huge = await app.inject({ method: 'POST', url: '/gen-jwt', headers: { ...headers, 'content-type': 'application/json' }, payload: JSON.stringify({ instance_id: 'x'.repeat(20_000) }) })
  assertProblem(t, huge, 413, 'payload_too_large')
  assertMatchesOpenApi(t, huge, 'POST', '/gen-jwt')
})

function forge (header: Record<string, unknown>, payload: Record<string, unknown>, secret: Buffer | string): string {
  const h = Buffer.from(JSON.stringify(header)).toString('base64url')
  const p = Buffer.from(JSON.stringify(payload)).toString('base64url')
  const s = createHmac('sha256', secret).update(`${h}.${p}`).digest('base64url')
  return `${h}.${p}.${s}`
}

test('tampered, expired, alg:none, wrong-algorithm, wrong-typ and garbage tokens are 401s, never 500', async (t) => {
  const config = testConfig()
  const app = await buildTestApp(t, { config })
  const issued = json(await app.inject({ method: 'POST', url: '/gen-jwt', headers: { 'x-api-key': API_KEY }, payload: {} }))
  const token = String(issued.token)
  const { header, payload } = decodeJwt(token)
  const now = Math.floor(Date.now() / 1000)
  const secret = config.jwt.secret

  const invalid: Array<[string, string]> = [
    [`${token.slice(0, -2)}${token.endsWith('AA') ? 'BB' : 'AA'}`, 'tampered signature'],
    [forge(header, { ...payload, sub: 'client:admin' }, 'not-the-secret'), 'signed with another key'],
    [`${Buffer.from(JSON.stringify({ alg: 'none', typ: 'at+jwt', kid: header.kid })).toString('base64url')}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}.`, 'alg none'],
    [forge({ ...header, alg: 'HS512' }, payload, secret), 'wrong algorithm'],
    [forge({ ...header, typ: 'JWT' }, payload, secret), 'wrong typ'],
    [forge({ ...header, kid: 'constructor' }, payload, secret), 'hostile kid'],
    [forge({ ...header, kid: '__proto__' }, payload, secret), 'proto kid'],
    [forge({ ...header, jku: 'http://127.0.0.1:1/jwks' }, payload, secret), 'jku header'],
    [forge({ ...header, crit: ['exp'] }, payload, secret), 'crit header'],
    [forge(header, { ...payload, iss: 'evil' }, secret), 'wrong issuer'],
    [forge(header, { ...payload, aud: 'evil' }, secret), 'wrong audience'],
    [forge(header, { ...payload, exp: now + 86_400 }, secret), 'lifetime beyond the maximum'],
    [forge(header, { ...payload, iat: now + 3600, exp: now + 3700 }, secret), 'issued in the future'],
    [forge(header, { ...payload, sub: 42 }, secret), 'numeric sub'],
    [forge(header, { iss: 'tokenmint', aud: 'tokenmint', iat: now, exp: now + 60 }, secret), 'missing sub and jti'],
    ['garbage', 'garbage'],
    ['a.b.c', 'three garbage segments'],
    [`${'a'.repeat(5000)}.b.c`, 'oversize token']
  ]
  for (const [bad, name] of invalid) {
    const response = await app.inject({ url: '/v1/me', headers: { authorization: `Bearer ${bad}` } })
    assertProblem(t, response, 401, 'token_invalid')
    t.equal(response.headers['www-authenticate'], 'Bearer error="invalid_token"', name)
  }

  const expired = forge(header, { ...payload, iat: now - 400, exp: now - 100 }, secret)
  assertProblem(t, await app.inject({ url: '/v1/me', headers: { authorization: `Bearer ${expired}` } }), 401, 'token_expired')

  const missing = await app.inject({ url: '/v1/me' })
  assertProblem(t, missing, 401, 'missing_token')
  t.equal(missing.headers['www-authenticate'], 'Bearer realm="tokenmint"')
  assertProblem(t, await app.inject({ url: '/v1/me', headers: { authorization: `Basic ${token}` } }), 401, 'token_invalid')
  assertProblem(t, await app.inject({ url: '/v1/me', headers: { authorization: 'Bearer' } }), 401, 'token_invalid')
  // An API key is not a bearer credential.
  assertProblem(t, await app.inject({ url: '/v1/me', headers: { 'x-api-key': API_KEY } }), 401, 'missing_token')
})
