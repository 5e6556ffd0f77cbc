import { test } from 'tap'
import { createHmac, createPrivateKey, createPublicKey, generateKeyPairSync, sign } from 'node:crypto'
import type { KeyObject } from 'node:crypto'
import { accessTokenHash } from '../../lib/dpop.js'
import { API_KEY } from '../helper.js'
import { deviceKey, dpopProof, privateJwk, writeKeysFile } from '../lifecycle-helper.js'
import { hostileTarget, runHostileCases, send } from './harness.js'
import type { HostileCase } from './harness.js'

const b64 = (value: unknown): string => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url')

/** Signs any header and payload, so hostile headers and mismatched keys can be built. */
function forge (header: Record<string, unknown>, payload: unknown, key: KeyObject | Buffer | string, options: { der?: boolean } = {}): string {
  const input = `${b64(header)}.${b64(payload)}`
  let signature: Buffer
  if (Buffer.isBuffer(key) || typeof key === 'string') signature = createHmac('sha256', key).update(input).digest()
  else if (key.asymmetricKeyType === 'ec') signature = sign('sha256', Buffer.from(input), { key, dsaEncoding: options.der === true ? 'der' : 'ieee-p1363' })
  else signature = sign(null, Buffer.from(input), key)
  return `${input}.${signature.toString('base64url')}`
}

const privateKey = (jwk: Record<string, string>): KeyObject => createPrivateKey({ key: jwk as never, format: 'jwk' })

for (const alg of ['ES256', 'EdDSA'] as const) {
  test(`${alg}: key confusion, alg none, embedded keys, foreign kids and DPoP proof attacks are 401 over a real port`, async (t) => {
    const current = privateJwk(alg, 'current')
    const previous = privateJwk(alg, 'previous')
    const other = alg === 'ES256' ? 'EdDSA' : 'ES256'
    const foreign = privateJwk(other, 'foreign')
    const target = await hostileTarget(t, { JWT_ALGORITHM: alg, JWT_KEYS_FILE: writeKeysFile(t, [current, previous]) })
    const { keys } = JSON.parse((await send(target.base, { path: '/.well-known/jwks.json' })).body) as { keys: Array<Record<string, string>> }
    const published = keys.find((k) => k.kid === 'current') as Record<string, string>
    t.ok(published !== undefined && published.d === undefined, 'the attacker works from the published public key only')
    const publicKey = createPublicKey({ key: published as never, format: 'jwk' })

    const issued = await send(target.base, { method: 'POST', path: '/gen-jwt', headers: { 'x-api-key': API_KEY }, body: {} })
    const token = (JSON.parse(issued.body) as { token: string }).token
    const [h, p] = token.split('.') as [string, string]
    const header = JSON.parse(Buffer.from(h, 'base64url').toString()) as Record<string, unknown>
    const payload = JSON.parse(Buffer.from(p, 'base64url').toString()) as Record<string, unknown>
    t.same(header, { alg, typ: 'at+jwt', kid: 'current' })

    const ours = privateKey(current)
    const attacker = alg === 'ES256' ? generateKeyPairSync('ec', { namedCurve: 'P-256' }) : generateKeyPairSync('ed25519')
    const attackerJwk = attacker.publicKey.export({ format: 'jwk' })
    const bearer = (name: string, value: string, code = 'token_invalid'): HostileCase => ({
      name: `${alg}: ${name}`, status: 401, code, request: { path: '/v1/me', headers: { authorization: `Bearer ${value}` } }
    })
    const cases: HostileCase[] = []

    const hs = { ...header, alg: 'HS256' }
    const publicMaterial: Array<[string, Buffer | string]> = [
      ['the public key PEM (SPKI)', publicKey.export({ type: 'spki', format: 'pem' })],
      ['the public key PEM without its trailing newline', String(publicKey.export({ type: 'spki', format: 'pem' })).trim()],
      ['the public key DER (SPKI)', publicKey.export({ type: 'spki', format: 'der' })],
      ['the public JWK as JSON text', JSON.stringify(published)],
      ['the JWK x coordinate bytes', Buffer.from(published.x ?? '', 'base64url')],
      ['the JWK x coordinate as base64url text', published.x ?? ''],
      ['the JWKS document', JSON.stringify({ keys })]
    ]
    if (alg === 'ES256') publicMaterial.push(['the raw uncompressed EC point', Buffer.concat([Buffer.from([4]), Buffer.from(published.x ?? '', 'base64url'), Buffer.from(published.y ?? '', 'base64url')])])
    for (const [label, material] of publicMaterial) {
      cases.push(bearer(`HS256 MACed with ${label}`, forge(hs, payload, material)))
      cases.push(bearer(`HS256 without kid MACed with ${label}`, forge({ alg: 'HS256', typ: 'at+jwt' }, payload, material)))
    }
    for (const none of ['none', 'None', 'NONE', 'nOnE']) {
      cases.push(bearer(`alg ${none}, empty signature`, `${b64({ ...header, alg: none })}.${p}.`))
      cases.push(bearer(`alg ${none}, kept signature`, `${b64({ ...header, alg: none })}.${p}.${token.split('.')[2] ?? ''}`))
    }
    cases.push(bearer('the other asymmetric algorithm with its own key', forge({ ...header, alg: other, kid: 'foreign' }, payload, privateKey(foreign))))
    cases.push(bearer('the other asymmetric algorithm under our kid', forge({ ...header, alg: other }, payload, privateKey(foreign))))
    for (const label of ['ES384', 'ES512', 'RS256', 'PS256', 'Ed448', 'ES256K', alg.toLowerCase()]) {
      cases.push(bearer(`alg label ${label} over our signature`, forge({ ...header, alg: label }, payload, ours)))
    }
    cases.push(bearer('attacker key under our kid', forge(header, payload, attacker.privateKey)))
    cases.push(bearer('attacker key under the previous kid', forge({ ...header, kid: 'previous' }, payload, attacker.privateKey)))
    cases.push(bearer('previous key signing under the current kid', forge(header, payload, privateKey(previous))))
    cases.push(bearer('current key signing under the previous kid', forge({ ...header, kid: 'previous' }, payload, ours)))
    cases.push(bearer('embedded attacker jwk, no kid', forge({ alg, typ: 'at+jwt', jwk: attackerJwk }, payload, attacker.privateKey)))
    cases.push(bearer('embedded attacker jwk with our kid', forge({ ...header, jwk: attackerJwk }, payload, attacker.privateKey)))
    cases.push(bearer('embedded copy of our own public jwk', forge({ ...header, jwk: published }, payload, ours)))
    cases.push(bearer('jku to a closed port', forge({ ...header, kid: 'remote', jku: 'http://127.0.0.1:1/jwks.json' }, payload, attacker.privateKey)))
    cases.push(bearer('x5u to a closed port', forge({ ...header, x5u: 'http://127.0.0.1:1/cert.pem' }, payload, attacker.privateKey)))
    cases.push(bearer('x5c with a made-up chain', forge({ ...header, x5c: ['MIIBszCCAVmgAwIBAgIU'] }, payload, attacker.privateKey)))
    cases.push(bearer('crit b64 false', forge({ ...header, b64: false, crit: ['b64'] }, payload, ours)))
    cases.push(bearer('crit unknown extension', forge({ ...header, crit: ['urn:x'], 'urn:x': 1 }, payload, ours)))
    for (const kid of ['constructor', '__proto__', 'hasOwnProperty', 'foreign', 'CURRENT', 'current ', '']) {
      cases.push(bearer(`kid ${JSON.stringify(kid)}`, forge({ ...header, kid }, payload, ours)))
    }
    const signature = Buffer.from(token.split('.')[2] ?? '', 'base64url')
    cases.push(bearer('signature truncated by one byte', `${h}.${p}.${signature.subarray(1).toString('base64url')}`))
    cases.push(bearer('signature with a byte appended', `${h}.${p}.${Buffer.concat([signature, Buffer.from([0])]).toString('base64url')}`))
    cases.push(bearer('all-zero signature (psychic signature)', `${h}.${p}.${Buffer.alloc(64).toString('base64url')}`))
    cases.push(bearer('signature of another payload', `${h}.${b64({ ...payload, sub: 'client:admin' })}.${token.split('.')[2] ?? ''}`))
    if (alg === 'ES256') cases.push(bearer('DER-encoded ECDSA signature', forge(header, payload, ours, { der: true })))
    cases.push(bearer('correctly signed, typ JWT', forge({ ...header, typ: 'JWT' }, payload, ours)))
    cases.push(bearer('correctly signed, payload an array', forge(header, [payload], ours)))
    cases.push(bearer('correctly signed, expired', forge(header, { ...payload, iat: Number(payload.iat) - 900, exp: Number(payload.iat) - 600 }, ours), 'token_expired'))

    // DPoP: a bound token, then proofs that are wrong in ways test/routes/dpop.test.ts does not try.
    const device = await deviceKey(alg)
    const bound = JSON.parse((await send(target.base, { method: 'POST', path: '/gen-jwt', headers: { 'x-api-key': API_KEY }, body: { dpop_jkt: device.jkt } })).body) as { token: string }
    const htu = new URL('/v1/me', target.base).href
    const proofClaims = (): Record<string, unknown> => ({ jti: crypto.randomUUID(), htm: 'GET', htu, iat: Math.floor(Date.now() / 1000), ath: accessTokenHash(bound.token) })
    const devicePublic = device.publicJwk as Record<string, string>
    const dpop = (name: string, proof: string): HostileCase => ({
      name: `${alg}: DPoP ${name}`, status: 401, code: 'invalid_dpop_proof', request: { path: '/v1/me', headers: { authorization: `DPoP ${bound.token}`, dpop: proof } }
    })
    cases.push(dpop('proof with alg none', `${b64({ alg: 'none', typ: 'dpop+jwt', jwk: devicePublic })}.${b64(proofClaims())}.`))
    cases.push(dpop('proof HS256 MACed with the device x coordinate', forge({ alg: 'HS256', typ: 'dpop+jwt', jwk: devicePublic }, proofClaims(), Buffer.from(devicePublic.x ?? '', 'base64url'))))
    cases.push(dpop('proof with a symmetric jwk', forge({ alg: 'HS256', typ: 'dpop+jwt', jwk: { kty: 'oct', k: b64('secret') } }, proofClaims(), 'secret')))
    cases.push(dpop('proof without a jwk', forge({ alg, typ: 'dpop+jwt' }, proofClaims(), attacker.privateKey)))
    cases.push(dpop('proof with jku instead of jwk', forge({ alg, typ: 'dpop+jwt', jku: 'http://127.0.0.1:1/jwks.json' }, proofClaims(), attacker.privateKey)))
    cases.push(dpop('proof signed with the service key', forge({ alg, typ: 'dpop+jwt', jwk: published }, proofClaims(), ours)))
    cases.push(dpop('proof whose payload is an array', forge({ alg, typ: 'dpop+jwt', jwk: attackerJwk }, [proofClaims()], attacker.privateKey)))
    cases.push(dpop('the access token itself as the proof', bound.token))

    await runHostileCases(t, target, cases)
    t.ok(cases.length >= 60, `${cases.length} ${alg} JWT cases`)

    const fine = await send(target.base, { path: '/v1/me', headers: { authorization: `DPoP ${bound.token}`, dpop: await dpopProof(device, { token: bound.token, htu }) } })
    t.equal(fine.status, 200, 'the bound token with a good proof still works over the real port')
    const rotated = await send(target.base, { path: '/v1/me', headers: { authorization: `Bearer ${forge({ ...header, kid: 'previous' }, payload, privateKey(previous))}` } })
    t.equal(rotated.status, 200, 'a token of the previous key still verifies (rotation)')
  })
}
