import { test } from 'tap'
import * as DPoP from 'dpop'
import * as oauth from 'oauth4webapi'
import { calculateJwkThumbprint, exportJWK } from 'jose'
import type { FastifyInstance } from 'fastify'
import type { Test } from 'tap'
import { API_KEY, assertMatchesOpenApi, assertProblem, buildTestApp, decodeJwt, json } from '../helper.js'
import { deviceKey, dpopProof } from '../lifecycle-helper.js'
import { DPOP_NONCE_WINDOW_SECONDS, DpopNonces } from '../../lib/dpop-nonce.js'
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

test('DPOP_NONCE: oauth4webapi meets use_dpop_nonce, takes the DPoP-Nonce and succeeds on retry; stale and forged nonces are refused', async (t) => {
  const app = await buildTestApp(t, { env: { DPOP_NONCE: 'true' } })
  const base = await app.listen({ host: '127.0.0.1', port: 0 })
  const keypair = await oauth.generateKeyPair('ES256')
  const jkt = await calculateJwkThumbprint(await exportJWK(keypair.publicKey))
  const minted = await fetch(`${base}/gen-jwt`, { method: 'POST', headers: { 'x-api-key': API_KEY, 'content-type': 'application/json' }, body: JSON.stringify({ dpop_jkt: jkt }) })
  const { token } = await minted.json() as { token: string }
  const handle = oauth.DPoP({}, keypair)
  const me = new URL(`${base}/v1/me`)
  const options = { DPoP: handle, [oauth.allowInsecureRequests]: true }

  const first: unknown = await oauth.protectedResourceRequest(token, 'GET', me, new Headers(), null, options).then(() => undefined, (error: unknown) => error)
  t.ok(oauth.isDPoPNonceError(first), 'the library recognises the nonce challenge')
  const retried = await oauth.protectedResourceRequest(token, 'GET', me, new Headers(), null, options)
  t.equal(retried.status, 200, 'the retry with the server nonce succeeds')
  const nonce = retried.headers.get('dpop-nonce')
  t.match(nonce, /^[0-9a-z]+\.[A-Za-z0-9_-]{43}$/, 'every DPoP answer carries the next nonce')
  t.equal((await oauth.protectedResourceRequest(token, 'GET', me, new Headers(), null, options)).status, 200, 'no second challenge while the nonce is current')

  // The raw answer, against the OpenAPI document, and with the dpop library.
  const dpopKeys = await DPoP.generateKeyPair('Ed25519')
  const edJkt = await calculateJwkThumbprint(await exportJWK(dpopKeys.publicKey))
  const edToken = String(json(await app.inject({ method: 'POST', url: '/gen-jwt', headers: { 'x-api-key': API_KEY }, payload: { dpop_jkt: edJkt } })).token)
  const bare = await app.inject({ url: '/v1/me', headers: { authorization: `DPoP ${edToken}`, dpop: await DPoP.generateProof(dpopKeys, ME, 'GET', undefined, edToken) } })
  assertProblem(t, bare, 401, 'use_dpop_nonce')
  assertMatchesOpenApi(t, bare, 'GET', '/v1/me')
  t.match(bare.headers['www-authenticate'], /^DPoP error="use_dpop_nonce"/)
  const issued = String(bare.headers['dpop-nonce'])
  const withNonce = await app.inject({ url: '/v1/me', headers: { authorization: `DPoP ${edToken}`, dpop: await DPoP.generateProof(dpopKeys, ME, 'GET', issued, edToken) } })
  t.equal(withNonce.statusCode, 200)
  assertMatchesOpenApi(t, withNonce, 'GET', '/v1/me')

  const [windowPart, macPart] = issued.split('.')
  const stale = `${(Number.parseInt(windowPart ?? '', 36) - 2).toString(36)}.${macPart ?? ''}`
  for (const [nonceValue, label] of [[stale, 'two windows old'], [`${windowPart ?? ''}.${'A'.repeat(43)}`, 'forged MAC'], ['x'.repeat(100), 'oversized'], ['', 'empty']] as const) {
    const refused = await app.inject({ url: '/v1/me', headers: { authorization: `DPoP ${edToken}`, dpop: await DPoP.generateProof(dpopKeys, ME, 'GET', nonceValue, edToken) } })
    assertProblem(t, refused, 401, 'use_dpop_nonce')
    t.ok(refused.headers['dpop-nonce'], `${label}: refused with a fresh nonce`)
  }
  // A proof that is wrong otherwise is refused for that, not sent round for a nonce.
  const wrongKey = await DPoP.generateKeyPair('Ed25519')
  assertProblem(t, await app.inject({ url: '/v1/me', headers: { authorization: `DPoP ${edToken}`, dpop: await DPoP.generateProof(wrongKey, ME, 'GET', undefined, edToken) } }), 401, 'invalid_dpop_proof')
  // Nonce round trips are not failed authentications: 30 of them leave the address's budget untouched.
  for (let i = 0; i < 30; i++) {
    const response = await app.inject({ url: '/v1/me', headers: { authorization: `DPoP ${edToken}`, dpop: await DPoP.generateProof(dpopKeys, ME, 'GET', undefined, edToken) } })
    if (response.statusCode !== 401) t.fail(`round ${i}: ${response.statusCode}`)
  }
  t.equal((await app.inject({ url: '/v1/me', headers: { authorization: `DPoP ${edToken}`, dpop: await DPoP.generateProof(dpopKeys, ME, 'GET', issued, edToken) } })).statusCode, 200)
})

test('DpopNonces: a nonce lives through its window and the next, and only with its key', async (t) => {
  let now = 1_700_000_000_000
  const nonces = new DpopNonces('k'.repeat(32), () => now)
  const nonce = nonces.issue()
  t.ok(nonces.isFresh(nonce))
  now += DPOP_NONCE_WINDOW_SECONDS * 1000
  t.ok(nonces.isFresh(nonce), 'still good in the next window')
  now += DPOP_NONCE_WINDOW_SECONDS * 1000
  t.notOk(nonces.isFresh(nonce), 'gone after two')
  t.notOk(new DpopNonces('o'.repeat(32), () => now).isFresh(nonces.issue()), 'another key does not accept it')
  for (const value of [undefined, 42, '', 'a.b', `${'z'.repeat(13)}.${'A'.repeat(43)}`]) t.notOk(nonces.isFresh(value))
})
