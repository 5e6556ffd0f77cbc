import { test } from 'tap'
import * as DPoP from 'dpop'
import { calculateJwkThumbprint, exportJWK } from 'jose'
import type { FastifyInstance } from 'fastify'
import type { Test } from 'tap'
import { API_KEY, assertMatchesOpenApi, assertProblem, buildTestApp, decodeJwt, json } from '../helper.js'
import { deviceKey, dpopProof } from '../lifecycle-helper.js'
import type { DeviceKey } from '../lifecycle-helper.js'

const ME = 'http://localhost/v1/me'

async function boundToken (t: Test, app: FastifyInstance, key: DeviceKey, extra: Record<string, unknown> = {}): Promise<string> {
  const response = await app.inject({ method: 'POST', url: '/gen-jwt', headers: { 'x-api-key': API_KEY }, payload: { dpop_jkt: key.jkt, ...extra } })
  t.equal(response.statusCode, 200)
  assertMatchesOpenApi(t, response, 'POST', '/gen-jwt')
  return String(json(response).token)
}

test('a DPoP-bound token works only with a valid, fresh proof from its key', async (t) => {
  const app = await buildTestApp(t)
  const key = await deviceKey('ES256')
  const token = await boundToken(t, app, key)
  const { payload } = decodeJwt(token)
  t.same(payload.cnf, { jkt: key.jkt })

  const proof = await dpopProof(key, { token })
  const ok = await app.inject({ url: '/v1/me', headers: { authorization: `DPoP ${token}`, dpop: proof } })
  t.equal(ok.statusCode, 200)
  assertMatchesOpenApi(t, ok, 'GET', '/v1/me')
  t.equal(json(ok).jti, payload.jti)

  const replay = await app.inject({ url: '/v1/me', headers: { authorization: `DPoP ${token}`, dpop: proof } })
  const body = assertProblem(t, replay, 401, 'invalid_dpop_proof')
  t.match(body.detail, /already used/)
  t.equal(replay.headers['www-authenticate'], 'DPoP error="invalid_dpop_proof", algs="ES256 EdDSA Ed25519"')
  assertMatchesOpenApi(t, replay, 'GET', '/v1/me')

  const other = await deviceKey('ES256')
  const now = Math.floor(Date.now() / 1000)
  const cases: Array<[Record<string, string | string[]>, string]> = [
    [{ authorization: `DPoP ${token}` }, 'no proof'],
    [{ authorization: `DPoP ${token}`, dpop: '' }, 'empty proof'],
    [{ authorization: `Bearer ${token}`, dpop: await dpopProof(key, { token }) }, 'presented as Bearer'],
    [{ authorization: `DPoP ${token}`, dpop: await dpopProof(other, { token }) }, 'proof from another key'],
    [{ authorization: `DPoP ${token}`, dpop: await dpopProof(other, { token, headerJwk: key.publicJwk }) }, 'bound key in the header, signed by another'],
    [{ authorization: `DPoP ${token}`, dpop: await dpopProof(key, { token, htu: 'http://localhost/v1/other' }) }, 'another URL'],
    [{ authorization: `DPoP ${token}`, dpop: await dpopProof(key, { token, htu: 'http://evil.example/v1/me' }) }, 'another host'],
    [{ authorization: `DPoP ${token}`, dpop: await dpopProof(key, { token, htu: 'https://localhost/v1/me' }) }, 'another scheme'],
    [{ authorization: `DPoP ${token}`, dpop: await dpopProof(key, { token, htu: 'not a url' }) }, 'htu not a URL'],
    [{ authorization: `DPoP ${token}`, dpop: await dpopProof(key, { token, htm: 'POST' }) }, 'another method'],
    [{ authorization: `DPoP ${token}`, dpop: await dpopProof(key, { token: 'another-token' }) }, 'ath of another token'],
    [{ authorization: `DPoP ${token}`, dpop: await dpopProof(key, {}) }, 'no ath'],
    [{ authorization: `DPoP ${token}`, dpop: await dpopProof(key, { token, iat: now - 300 }) }, 'stale iat'],
    [{ authorization: `DPoP ${token}`, dpop: await dpopProof(key, { token, iat: now + 300 }) }, 'future iat'],
    [{ authorization: `DPoP ${token}`, dpop: await dpopProof(key, { token, omit: ['iat'] }) }, 'no iat'],
    [{ authorization: `DPoP ${token}`, dpop: await dpopProof(key, { token, omit: ['jti'] }) }, 'no jti'],
    [{ authorization: `DPoP ${token}`, dpop: await dpopProof(key, { token, jti: 'short' }) }, 'short jti'],
    [{ authorization: `DPoP ${token}`, dpop: await dpopProof(key, { token, typ: 'JWT' }) }, 'typ JWT'],
    [{ authorization: `DPoP ${token}`, dpop: await dpopProof(key, { token, headerJwk: { ...key.publicJwk, d: 'AAAA' } }) }, 'private jwk in header'],
    [{ authorization: `DPoP ${token}`, dpop: [await dpopProof(key, { token }), await dpopProof(key, { token })] }, 'two DPoP headers'],
    [{ authorization: `DPoP ${token}`, dpop: 'x'.repeat(5000) }, 'oversize proof'],
    [{ authorization: `DPoP ${token}`, dpop: 'a.b.c' }, 'garbage proof']
  ]
  for (const [headers, name] of cases) {
    t.comment(name)
    assertProblem(t, await app.inject({ url: '/v1/me', headers }), 401, 'invalid_dpop_proof')
  }

  // A query string is not part of htu (RFC 9449 §4.3).
  const withQuery = await app.inject({ url: '/v1/me?x=1', headers: { authorization: `DPoP ${token}`, dpop: await dpopProof(key, { token }) } })
  t.equal(withQuery.statusCode, 200)
})

test('EdDSA device keys, instance binding on top, and a plain token sent as DPoP', async (t) => {
  const app = await buildTestApp(t)
  const key = await deviceKey('EdDSA')
  const token = await boundToken(t, app, key, { instance_id: 'phone-1' })
  const headers = async (): Promise<Record<string, string>> => ({ authorization: `DPoP ${token}`, dpop: await dpopProof(key, { token }) })
  assertProblem(t, await app.inject({ url: '/v1/me', headers: await headers() }), 401, 'device_mismatch')
  const ok = await app.inject({ url: '/v1/me', headers: { ...await headers(), 'x-instance-id': 'phone-1' } })
  t.equal(ok.statusCode, 200)
  t.equal(json(ok).instance_id, 'phone-1')

  const plain = String(json(await app.inject({ method: 'POST', url: '/gen-jwt', headers: { 'x-api-key': API_KEY }, payload: {} })).token)
  const asDpop = await app.inject({ url: '/v1/me', headers: { authorization: `DPoP ${plain}`, dpop: await dpopProof(key, { token: plain }) } })
  assertProblem(t, asDpop, 401, 'token_invalid')
})

test('dpop_jkt must be a SHA-256 JWK thumbprint', async (t) => {
  const app = await buildTestApp(t)
  for (const dpopJkt of ['abc', 'x'.repeat(44), `${'x'.repeat(42)}=`, 42]) {
    const response = await app.inject({ method: 'POST', url: '/gen-jwt', headers: { 'x-api-key': API_KEY }, payload: { dpop_jkt: dpopJkt } })
    assertProblem(t, response, 400, 'invalid_request')
  }
})

test('behind a trusted proxy htu is the public URL; untrusted forwarding headers are ignored', async (t) => {
  const key = await deviceKey('ES256')
  const forwarded = { 'x-forwarded-proto': 'https', 'x-forwarded-host': 'api.example.com' }

  const proxied = await buildTestApp(t, { env: { TRUST_PROXY: '127.0.0.1' } })
  const token = await boundToken(t, proxied, key)
  const ok = await proxied.inject({ url: '/v1/me', headers: { ...forwarded, authorization: `DPoP ${token}`, dpop: await dpopProof(key, { token, htu: 'https://api.example.com/v1/me' }) } })
  t.equal(ok.statusCode, 200)

  const direct = await buildTestApp(t)
  const directToken = await boundToken(t, direct, key)
  const refused = await direct.inject({ url: '/v1/me', headers: { ...forwarded, authorization: `DPoP ${directToken}`, dpop: await dpopProof(key, { token: directToken, htu: 'https://api.example.com/v1/me' }) } })
  assertProblem(t, refused, 401, 'invalid_dpop_proof')
  const plainUrl = await direct.inject({ url: '/v1/me', headers: { ...forwarded, authorization: `DPoP ${directToken}`, dpop: await dpopProof(key, { token: directToken, htu: ME }) } })
  t.equal(plainUrl.statusCode, 200)
})

test('introspection reports the key binding; revocation works on a DPoP-bound caller', async (t) => {
  const app = await buildTestApp(t)
  const key = await deviceKey('ES256')
  const token = await boundToken(t, app, key)
  const introspected = await app.inject({ method: 'POST', url: '/v1/tokens/introspect', headers: { 'x-api-key': API_KEY }, payload: { token } })
  t.match(json(introspected), { active: true, token_type: 'DPoP', cnf: { jkt: key.jkt } })

  const revoke = await app.inject({
    method: 'POST',
    url: '/v1/tokens/revoke',
    headers: { authorization: `DPoP ${token}`, dpop: await dpopProof(key, { token, htm: 'POST', htu: 'http://localhost/v1/tokens/revoke' }) },
    payload: { token }
  })
  t.equal(revoke.statusCode, 200)
  t.same(json(revoke), {})
  assertProblem(t, await app.inject({ url: '/v1/me', headers: { authorization: `DPoP ${token}`, dpop: await dpopProof(key, { token }) } }), 401, 'token_revoked')
})

test('the dpop library\'s proofs work unmodified, Ed25519 (its fully specified alg) and ES256 alike; the token type is DPoP', async (t) => {
  const app = await buildTestApp(t)
  const base = await app.listen({ host: '127.0.0.1', port: 0 })
  for (const alg of ['Ed25519', 'ES256'] as const) {
    const keypair = await DPoP.generateKeyPair(alg)
    const jwk = await exportJWK(keypair.publicKey)
    const jkt = await calculateJwkThumbprint(jwk)
    const minted = await fetch(`${base}/gen-jwt`, { method: 'POST', headers: { 'x-api-key': API_KEY, 'content-type': 'application/json' }, body: JSON.stringify({ dpop_jkt: jkt }) })
    const issued = await minted.json() as { token: string, token_type: string }
    t.equal(issued.token_type, 'DPoP', `${alg}: RFC 9449 token type`)
    const proof = await DPoP.generateProof(keypair, `${base}/v1/me`, 'GET', undefined, issued.token)
    t.equal(decodeJwt(proof).header.alg, alg, `the library signs with ${alg}`)
    const me = await fetch(`${base}/v1/me`, { headers: { authorization: `DPoP ${issued.token}`, dpop: proof } })
    t.equal(me.status, 200, `${alg}: accepted`)
    const replay = await fetch(`${base}/v1/me`, { headers: { authorization: `DPoP ${issued.token}`, dpop: proof } })
    t.equal(replay.status, 401, `${alg}: a replay is refused`)
  }
})

test('login binds the token to a key with dpop_jkt: token_type DPoP, usable only with proofs from that key', async (t) => {
  const app = await buildTestApp(t)
  await app.inject({ method: 'POST', url: '/v1/users', headers: { 'x-api-key': API_KEY }, payload: { username: 'dora', password: 'correct horse battery' } })
  const base = await app.listen({ host: '127.0.0.1', port: 0 })
  const keypair = await DPoP.generateKeyPair('Ed25519')
  const jkt = await calculateJwkThumbprint(await exportJWK(keypair.publicKey))
  const login = await app.inject({ method: 'POST', url: '/v1/auth/login', payload: { username: 'dora', password: 'correct horse battery', dpop_jkt: jkt } })
  t.equal(login.statusCode, 200)
  assertMatchesOpenApi(t, login, 'POST', '/v1/auth/login')
  const { token, token_type: tokenType } = json(login) as { token: string, token_type: string }
  t.equal(tokenType, 'DPoP')
  t.same(decodeJwt(token).payload.cnf, { jkt })
  const proof = await DPoP.generateProof(keypair, `${base}/v1/me`, 'GET', undefined, token)
  t.equal((await fetch(`${base}/v1/me`, { headers: { authorization: `DPoP ${token}`, dpop: proof } })).status, 200)
  assertProblem(t, await app.inject({ url: '/v1/me', headers: { authorization: `Bearer ${token}` } }), 401, 'invalid_dpop_proof')
  assertProblem(t, await app.inject({ method: 'POST', url: '/v1/auth/login', payload: { username: 'dora', password: 'correct horse battery', dpop_jkt: 'short' } }), 400, 'invalid_request')
})
