import { test } from 'tap'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { generatePrivateJwk, hmacKeyRing, KeyRingError, keyRingFromJwks, loadKeyRingFile, newKid, rotateJwks } from '../../lib/keys.js'

test('an ES256 ring: the first key signs, every key verifies, only public members are published', async (t) => {
  const signing = generatePrivateJwk('ES256', 'new')
  const { d: _d, ...verifyOnly } = generatePrivateJwk('ES256', 'old')
  const ring = keyRingFromJwks('ES256', { keys: [signing, verifyOnly] })
  t.equal(ring.algorithm, 'ES256')
  t.equal(ring.signing.kid, 'new')
  t.match(String(ring.signing.privateKey), /^-----BEGIN PRIVATE KEY-----/)
  t.match(String(ring.signing.publicKey), /^-----BEGIN PUBLIC KEY-----/)
  t.same([...ring.byKid.keys()], ['new', 'old'])
  t.equal(ring.byKid.get('old')?.privateKey, undefined, 'a public-only key verifies but never signs')
  t.same(ring.jwks.map((key) => key.kid), ['new', 'old'])
  t.same(ring.jwks[0], { kty: 'EC', crv: 'P-256', x: signing.x, y: signing.y, kid: 'new', alg: 'ES256', use: 'sig' })
  t.equal(ring.byKid.get('constructor'), undefined)
  t.equal(ring.byKid.get('__proto__'), undefined)
})

test('an EdDSA ring publishes OKP keys without y', async (t) => {
  const jwk = generatePrivateJwk('EdDSA', 'ed')
  const ring = keyRingFromJwks('EdDSA', { keys: [jwk] })
  t.same(ring.jwks, [{ kty: 'OKP', crv: 'Ed25519', x: jwk.x, kid: 'ed', alg: 'EdDSA', use: 'sig' }])
})

test('HS256 rings never publish a key', async (t) => {
  t.same(keyRingFromJwks('HS256', { keys: [generatePrivateJwk('HS256', 'h1')] }).jwks, [])
  const ring = hmacKeyRing(Buffer.alloc(32, 1))
  t.same(ring.jwks, [])
  t.match(ring.signing.kid, /^hs-[A-Za-z0-9_-]{16}$/)
})

test('every unusable key set is a KeyRingError that names the key, never its material', async (t) => {
  const es = generatePrivateJwk('ES256', 'es')
  const ed = generatePrivateJwk('EdDSA', 'ed')
  const { d: _d, ...esPublic } = es
  const cases: Array<[string, unknown, RegExp]> = [
    ['ES256', null, /JWKS object/],
    ['ES256', [], /JWKS object/],
    ['ES256', { keys: [] }, /at least one key/],
    ['ES256', { keys: ['x'] }, /keys\[0\]: is not a JWK object/],
    ['ES256', { keys: [{ ...es, kid: undefined }] }, /kid must be/],
    ['ES256', { keys: [{ ...es, kid: 'a b' }] }, /kid must be/],
    ['ES256', { keys: [{ ...es, alg: 'ES384' }] }, /alg must be ES256/],
    ['ES256', { keys: [ed] }, /alg must be ES256/],
    ['EdDSA', { keys: [{ ...es, alg: 'EdDSA' }] }, /needs kty OKP and crv Ed25519/],
    ['ES256', { keys: [{ ...es, use: 'enc' }] }, /use must be "sig"/],
    ['ES256', { keys: [esPublic] }, /first key signs/],
    ['ES256', { keys: [es, es] }, /kid "es" appears more than once/],
    ['ES256', { keys: [{ ...es, x: 'AAAA' }] }, /not a valid EC/],
    ['ES256', { keys: [es, { ...esPublic, kid: 'p', y: 'AAAA' }] }, /keys\[1\].*not a valid EC/],
    ['HS256', { keys: [{ kty: 'oct', k: 'c2hvcnQ', kid: 'h', alg: 'HS256' }] }, /at least 32 bytes/],
    ['HS256', { keys: [{ kty: 'oct', kid: 'h', alg: 'HS256' }] }, /at least 32 bytes/]
  ]
  for (const [algorithm, jwks, message] of cases) {
    const error = (() => { try { keyRingFromJwks(algorithm as 'ES256', jwks) } catch (e) { return e } })()
    t.ok(error instanceof KeyRingError, String(message))
    t.match((error as Error).message, message)
    t.notMatch((error as Error).message, es.d as string)
  }
})

test('loadKeyRingFile reads a JWKS file and reports unreadable or non-JSON files', async (t) => {
  const dir = t.testdir({ 'bad.json': '{not json', 'good.json': JSON.stringify({ keys: [generatePrivateJwk('EdDSA', 'f')] }) })
  t.equal(loadKeyRingFile('EdDSA', join(dir, 'good.json')).signing.kid, 'f')
  t.throws(() => loadKeyRingFile('EdDSA', join(dir, 'bad.json')), /is not valid JSON/)
  t.throws(() => loadKeyRingFile('EdDSA', join(dir, 'missing.json')), /cannot be read/)
  writeFileSync(join(dir, 'wrong.json'), JSON.stringify({ keys: [generatePrivateJwk('ES256', 'e')] }))
  t.throws(() => loadKeyRingFile('EdDSA', join(dir, 'wrong.json')), /wrong\.json: keys\[0\] \(kid e\): alg must be EdDSA/)
})

test('rotateJwks adds a fresh key first (or last) and keeps the others', async (t) => {
  t.match(newKid(new Date('2025-01-02T00:00:00Z')), /^2025-01-02-[A-Za-z0-9_-]{8}$/)
  const initial = rotateJwks('ES256', undefined)
  t.equal(initial.keys.length, 1)
  const rotated = rotateJwks('ES256', initial)
  t.equal(rotated.keys.length, 2)
  t.same(rotated.keys[1], initial.keys[0])
  const ring = keyRingFromJwks('ES256', rotated)
  t.equal(ring.signing.kid, (rotated.keys[0] as { kid: string }).kid)
  const staged = rotateJwks('ES256', rotated, 'last')
  t.same(staged.keys.slice(0, 2), rotated.keys)
  t.equal(new Set(staged.keys.map((key) => (key as { kid: string }).kid)).size, 3)
  t.throws(() => rotateJwks('EdDSA', rotated), KeyRingError, 'a key set of another algorithm is refused')
})
