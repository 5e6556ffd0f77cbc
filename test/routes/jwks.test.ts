import { test } from 'tap'
import { createHmac, createPrivateKey, generateKeyPairSync, sign } from 'node:crypto'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { createLocalJWKSet, jwtVerify } from 'jose'
import type { JSONWebKeySet } from 'jose'
import type { FastifyInstance } from 'fastify'
import { createMemoryStore } from '../../plugins/store/memory.js'
import { API_KEY, assertMatchesOpenApi, assertProblem, buildTestApp, decodeJwt, json } from '../helper.js'
import { privateJwk, writeKeysFile } from '../lifecycle-helper.js'

const ALGORITHMS = ['ES256', 'EdDSA'] as const

async function genJwt (app: FastifyInstance, payload: Record<string, unknown> = {}): Promise<string> {
  const response = await app.inject({ method: 'POST', url: '/gen-jwt', headers: { 'x-api-key': API_KEY }, payload })
  return String(json(response).token)
}

async function me (app: FastifyInstance, token: string): Promise<Awaited<ReturnType<FastifyInstance['inject']>>> {
  return await app.inject({ url: '/v1/me', headers: { authorization: `Bearer ${token}` } })
}

const b64 = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url')

/** Signs any header and payload with node:crypto, so hostile headers (crit, jku, ...) can be built. */
function forge (header: Record<string, unknown>, payload: Record<string, unknown>, key: Record<string, unknown> | Buffer | string): string {
  const input = `${b64(header)}.${b64(payload)}`
  let signature: Buffer
  if (header.alg === 'HS256') signature = createHmac('sha256', key as Buffer | string).update(input).digest()
  else if (header.alg === 'ES256') signature = sign('sha256', Buffer.from(input), { key: createPrivateKey({ key: key as never, format: 'jwk' }), dsaEncoding: 'ieee-p1363' })
  else signature = sign(null, Buffer.from(input), createPrivateKey({ key: key as never, format: 'jwk' }))
  return `${input}.${signature.toString('base64url')}`
}

for (const alg of ALGORITHMS) {
  test(`${alg}: /gen-jwt and login tokens verify with jose through /.well-known/jwks.json`, async (t) => {
    const file = writeKeysFile(t, [privateJwk(alg, 'key-1')])
    const app = await buildTestApp(t, { env: { JWT_ALGORITHM: alg, JWT_KEYS_FILE: file } })

    const published = await app.inject({ url: '/.well-known/jwks.json' })
    t.equal(published.statusCode, 200)
    t.equal(published.headers['cache-control'], 'public, max-age=300')
    assertMatchesOpenApi(t, published, 'GET', '/.well-known/jwks.json')
    const jwks = json<JSONWebKeySet>(published)
    t.equal(jwks.keys.length, 1)
    t.same(Object.keys(jwks.keys[0] ?? {}).sort(), alg === 'ES256' ? ['alg', 'crv', 'kid', 'kty', 'use', 'x', 'y'] : ['alg', 'crv', 'kid', 'kty', 'use', 'x'])
    t.match(jwks.keys[0], { kid: 'key-1', alg, use: 'sig', kty: alg === 'ES256' ? 'EC' : 'OKP' })
    t.notMatch(published.body, /"d"|"k"/, 'no private or symmetric member')

    const keySet = createLocalJWKSet(jwks)
    const token = await genJwt(app, { instance_id: 'device-1' })
    const { payload, protectedHeader } = await jwtVerify(token, keySet, { issuer: 'tokenmint', audience: 'tokenmint', typ: 'at+jwt', algorithms: [alg] })
    t.same(protectedHeader, { alg, typ: 'at+jwt', kid: 'key-1' })
    t.equal(payload.sub, 'instance:device-1')
    t.equal((await app.inject({ url: '/v1/me', headers: { authorization: `Bearer ${token}`, 'x-instance-id': 'device-1' } })).statusCode, 200)

    await app.inject({ method: 'POST', url: '/v1/users', headers: { 'x-api-key': API_KEY }, payload: { username: 'alice', password: 'correct horse battery' } })
    const login = await app.inject({ method: 'POST', url: '/v1/auth/login', payload: { username: 'alice', password: 'correct horse battery' } })
    t.equal(login.statusCode, 200)
    const loginToken = String(json(login).token)
    const verified = await jwtVerify(loginToken, keySet, { issuer: 'tokenmint', audience: 'tokenmint', typ: 'at+jwt', algorithms: [alg] })
    t.equal(verified.payload.sub, 'user:alice')
    t.equal(verified.protectedHeader.kid, 'key-1')
    t.equal((await me(app, loginToken)).statusCode, 200)
  })

  test(`${alg}: rotation keeps old tokens valid until their key leaves the file`, async (t) => {
    const oldKey = privateJwk(alg, 'old')
    const newKey = privateJwk(alg, 'new')
    const store = createMemoryStore()
    t.teardown(() => store.close())

    const before = await buildTestApp(t, { store, env: { JWT_ALGORITHM: alg, JWT_KEYS_FILE: writeKeysFile(t, [oldKey], 'before.json') } })
    const oldToken = await genJwt(before)
    t.equal(decodeJwt(oldToken).header.kid, 'old')

    const rotated = await buildTestApp(t, { store, env: { JWT_ALGORITHM: alg, JWT_KEYS_FILE: writeKeysFile(t, [newKey, oldKey], 'rotated.json') } })
    const newToken = await genJwt(rotated)
    t.equal(decodeJwt(newToken).header.kid, 'new', 'the first key signs')
    t.equal((await me(rotated, oldToken)).statusCode, 200, 'a token of the old key still verifies')
    t.equal((await me(rotated, newToken)).statusCode, 200)
    const jwks = json<JSONWebKeySet>(await rotated.inject({ url: '/.well-known/jwks.json' }))
    t.same(jwks.keys.map((key) => key.kid), ['new', 'old'])
    const keySet = createLocalJWKSet(jwks)
    for (const token of [oldToken, newToken]) await t.resolves(jwtVerify(token, keySet, { algorithms: [alg] }))

    const after = await buildTestApp(t, { store, env: { JWT_ALGORITHM: alg, JWT_KEYS_FILE: writeKeysFile(t, [newKey], 'after.json') } })
    assertProblem(t, await me(after, oldToken), 401, 'token_invalid')
    t.equal((await me(after, newToken)).statusCode, 200)
  })

  test(`${alg}: key confusion, alg none, embedded keys, jku/x5u, crit and hostile kids are 401 without any outbound request`, async (t) => {
    let hits = 0
    const server = createServer((_request, response) => { hits++; response.end('{"keys":[]}') })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())))
    const remote = `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks.json`

    const ours = privateJwk(alg, 'key-1')
    const app = await buildTestApp(t, { env: { JWT_ALGORITHM: alg, JWT_KEYS_FILE: writeKeysFile(t, [ours]) } })
    const token = await genJwt(app)
    const { header, payload } = decodeJwt(token)
    t.equal((await me(app, forge(header, payload, ours))).statusCode, 200, 'the forge helper signs like the service')

    const attacker = privateJwk(alg, 'key-1')
    const { d: _d, ...attackerPublic } = attacker
    const ringKey = app.keyRing.byKid.get('key-1')
    const publicPem = String(ringKey?.publicKey)
    const publicJwkText = JSON.stringify(ringKey?.publicJwk)
    const other = alg === 'ES256' ? 'EdDSA' : 'ES256'
    const otherKey = privateJwk(other, 'key-1')

    const cases: Array<[string, string]> = [
      [forge({ ...header, alg: 'HS256' }, payload, publicPem), 'HS256 MACed with the public PEM'],
      [forge({ ...header, alg: 'HS256' }, payload, publicJwkText), 'HS256 MACed with the public JWK'],
      [forge({ ...header, alg: 'HS256' }, payload, Buffer.from(String(ringKey?.publicJwk?.x), 'base64url')), 'HS256 MACed with the public x coordinate'],
      [`${b64({ ...header, alg: 'none' })}.${b64(payload)}.`, 'alg none'],
      [forge({ ...header, alg: other }, payload, otherKey), 'the other asymmetric algorithm'],
      [forge(header, payload, attacker), 'same kid, attacker key'],
      [forge({ ...header, jwk: attackerPublic }, payload, attacker), 'embedded jwk header'],
      [forge({ ...header, jku: remote }, payload, attacker), 'jku to a server'],
      [forge({ ...header, kid: 'remote', jku: remote }, payload, attacker), 'jku with an unknown kid'],
      [forge({ ...header, x5u: remote }, payload, attacker), 'x5u to a server'],
      [forge({ ...header, crit: ['exp'] }, payload, ours), 'unknown crit, our own key'],
      [forge({ ...header, crit: ['b64'], b64: false }, payload, ours), 'crit b64'],
      [forge({ ...header, kid: 'constructor' }, payload, ours), 'kid constructor'],
      [forge({ ...header, kid: '__proto__' }, payload, ours), 'kid __proto__'],
      [forge({ ...header, kid: '../../x' }, payload, ours), 'kid path traversal'],
      [forge({ ...header, kid: 'toString' }, payload, ours), 'kid toString'],
      [forge({ ...header, kid: 42 }, payload, ours), 'numeric kid'],
      [forge({ ...header, kid: { $ne: null } }, payload, ours), 'object kid'],
      [forge({ alg: header.alg, typ: 'at+jwt' }, payload, ours), 'no kid']
    ]
    for (const [forged, name] of cases) {
      const response = await me(app, forged)
      t.comment(name)
      assertProblem(t, response, 401, 'token_invalid')
      t.equal(response.headers['www-authenticate'], 'Bearer error="invalid_token"')
    }
    t.equal(hits, 0, 'no request left the service')
  })
}

test('HS256 publishes an empty key set; a dev key pair is generated for ES256 without a key file', async (t) => {
  const hs = await buildTestApp(t)
  const empty = await hs.inject({ url: '/.well-known/jwks.json' })
  t.equal(empty.statusCode, 200)
  t.same(json(empty), { keys: [] })

  const es = await buildTestApp(t, { env: { JWT_ALGORITHM: 'EdDSA' } })
  const jwks = json<JSONWebKeySet>(await es.inject({ url: '/.well-known/jwks.json' }))
  t.equal(jwks.keys.length, 1)
  t.match(jwks.keys[0], { kty: 'OKP', crv: 'Ed25519', alg: 'EdDSA', use: 'sig', kid: String })
  const token = await genJwt(es)
  await t.resolves(jwtVerify(token, createLocalJWKSet(jwks), { algorithms: ['EdDSA'] }))
})

test('a JWKS is never built from a symmetric key even when HS256 keys come from a file', async (t) => {
  const file = writeKeysFile(t, [privateJwk('HS256', 'hs-1'), privateJwk('HS256', 'hs-0')])
  const app = await buildTestApp(t, { env: { JWT_KEYS_FILE: file } })
  t.same(json(await app.inject({ url: '/.well-known/jwks.json' })), { keys: [] })
  const token = await genJwt(app)
  t.same(decodeJwt(token).header, { alg: 'HS256', typ: 'at+jwt', kid: 'hs-1' })
  t.equal((await me(app, token)).statusCode, 200)
})

test('an unrelated EC key pair never verifies even with the right kid', async (t) => {
  const app = await buildTestApp(t, { env: { JWT_ALGORITHM: 'ES256', JWT_KEYS_FILE: writeKeysFile(t, [privateJwk('ES256', 'k')]) } })
  const { header, payload } = decodeJwt(await genJwt(app))
  const stranger = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'jwk' })
  assertProblem(t, await me(app, forge(header, payload, stranger as Record<string, unknown>)), 401, 'token_invalid')
})
