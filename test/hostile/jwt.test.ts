import { test } from 'tap'
import { createHmac, generateKeyPairSync, sign } from 'node:crypto'
import { API_KEY, testConfig } from '../helper.js'
import { hostileTarget, runHostileCases, send } from './harness.js'
import type { HostileCase } from './harness.js'

const b64 = (value: unknown): string => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url')
const mac = (input: string, secret: Buffer | string): string => createHmac('sha256', secret).update(input).digest('base64url')

test('JWT attack families against a bearer route: every one is a 401, none a 5xx, no hang', async (t) => {
  const config = testConfig({ RATE_LIMIT_MAX: '100000' })
  const target = await hostileTarget(t)
  // The hostile target has its own generated secret: read it from the app, as an attacker with a leaked key would not.
  const secret = target.app.config.jwt.secret
  t.not(secret.toString('hex'), config.jwt.secret.toString('hex'))
  const issued = await send(target.base, { method: 'POST', path: '/gen-jwt', headers: { 'x-api-key': API_KEY }, body: { instance_id: 'device-1' } })
  const token = (JSON.parse(issued.body) as { token: string }).token
  const [h, p] = token.split('.') as [string, string]
  const header = JSON.parse(Buffer.from(h, 'base64url').toString()) as Record<string, unknown>
  const payload = JSON.parse(Buffer.from(p, 'base64url').toString()) as Record<string, unknown>
  const now = Math.floor(Date.now() / 1000)
  const signed = (hdr: unknown, pl: unknown): string => {
    const input = `${b64(hdr)}.${b64(pl)}`
    return `${input}.${mac(input, secret)}`
  }
  const raw = (hdrText: string, plText: string): string => {
    const input = `${Buffer.from(hdrText).toString('base64url')}.${Buffer.from(plText).toString('base64url')}`
    return `${input}.${mac(input, secret)}`
  }
  const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' })
  const esInput = `${b64({ ...header, alg: 'ES256' })}.${b64(payload)}`
  const esToken = `${esInput}.${sign('sha256', Buffer.from(esInput), { key: ec.privateKey, dsaEncoding: 'ieee-p1363' }).toString('base64url')}`

  const bearer = (name: string, value: string, code: string | string[] = 'token_invalid'): HostileCase => ({
    name, status: 401, code, request: { path: '/v1/me', headers: { authorization: `Bearer ${value}`, 'x-instance-id': 'device-1' } }
  })
  const cases: HostileCase[] = []

  for (const alg of ['none', 'None', 'NONE', 'nOnE']) {
    cases.push(bearer(`alg ${alg}, empty signature`, `${b64({ ...header, alg })}.${b64(payload)}.`))
    cases.push(bearer(`alg ${alg}, kept signature`, `${b64({ ...header, alg })}.${b64(payload)}.${token.split('.')[2] ?? ''}`))
    cases.push(bearer(`alg ${alg}, no kid`, `${b64({ alg, typ: 'at+jwt' })}.${b64(payload)}.`))
  }
  cases.push(bearer('ES256 token signed with an attacker key', esToken))
  cases.push(bearer('HS384', signed({ ...header, alg: 'HS384' }, payload)))
  cases.push(bearer('HS512', signed({ ...header, alg: 'HS512' }, payload)))
  cases.push(bearer('RS256 label on an HMAC', signed({ ...header, alg: 'RS256' }, payload)))
  cases.push(bearer('alg missing', signed({ typ: 'at+jwt', kid: header.kid }, payload)))
  cases.push(bearer('alg as array', signed({ ...header, alg: ['HS256'] }, payload)))

  for (const kid of ['constructor', '__proto__', 'toString', 'hasOwnProperty', '../../etc/passwd', "' OR 1=1 --", '{"$ne":null}', 'x'.repeat(3000), '', ' ']) {
    cases.push(bearer(`kid ${JSON.stringify(kid.slice(0, 20))}`, signed({ ...header, kid }, payload)))
  }
  for (const kid of [0, null, true, ['a'], { $ne: null }]) cases.push(bearer(`kid of type ${JSON.stringify(kid)}`, signed({ ...header, kid }, payload)))

  cases.push(bearer('jku header', signed({ ...header, jku: 'http://127.0.0.1:1/jwks.json' }, payload)))
  cases.push(bearer('x5u header', signed({ ...header, x5u: 'http://127.0.0.1:1/cert.pem' }, payload)))
  cases.push(bearer('embedded jwk header', signed({ ...header, jwk: { kty: 'oct', k: secret.toString('base64url') } }, payload)))
  cases.push(bearer('x5c header', signed({ ...header, x5c: ['MIIB'] }, payload)))
  cases.push(bearer('crit exp', signed({ ...header, crit: ['exp'] }, payload)))
  cases.push(bearer('crit unknown', signed({ ...header, crit: ['urn:x'], 'urn:x': 1 }, payload)))
  cases.push(bearer('crit not an array', signed({ ...header, crit: 'b64' }, payload)))
  cases.push(bearer('b64 false', signed({ ...header, b64: false, crit: ['b64'] }, payload)))
  cases.push(bearer('typ JWT', signed({ ...header, typ: 'JWT' }, payload)))
  cases.push(bearer('typ missing', signed({ alg: 'HS256', kid: header.kid }, payload)))
  cases.push(bearer('typ dpop+jwt', signed({ ...header, typ: 'dpop+jwt' }, payload)))

  const [s1, s2, s3] = token.split('.') as [string, string, string]
  cases.push(bearer('padding on the header', `${s1}=.${s2}.${s3}`))
  cases.push(bearer('padding on the signature', `${s1}.${s2}.${s3}==`))
  cases.push(bearer('space inside the token', `${s1}. ${s2}.${s3}`))
  cases.push(bearer('tab inside the token', `${s1}.\t${s2}.${s3}`))
  cases.push(bearer('four segments', `${token}.${s3}`))
  cases.push(bearer('two segments', `${s1}.${s2}`))
  cases.push(bearer('leading dot', `.${token}`))
  cases.push(bearer('standard base64 alphabet', `${s1}.${s2}.${s3.replaceAll('-', '+').replaceAll('_', '/')}+/`))
  cases.push(bearer('empty segments', '..'))
  cases.push(bearer('unicode in the token', `${s1}.${s2}.${s3}é`))

  for (const body of [[1, 2], 'string', 42, null, true]) cases.push(bearer(`payload ${JSON.stringify(body)}`, signed(header, body)))
  cases.push(bearer('header is an array', raw('["HS256"]', JSON.stringify(payload))))
  cases.push(bearer('header is not JSON', raw('{alg:HS256}', JSON.stringify(payload))))
  cases.push(bearer('payload is not JSON', raw(JSON.stringify(header), '{sub:1}')))

  const claimCases: Array<[string, Record<string, unknown>, string?]> = [
    ['exp as string', { exp: String(now + 100) }],
    ['exp as float', { exp: now + 100.5 }],
    ['exp negative', { exp: -1 }],
    ['exp huge', { exp: 1e308 }],
    ['exp missing', { exp: undefined }],
    ['iat missing', { iat: undefined }],
    ['iat as string', { iat: String(now) }],
    ['iat in the future', { iat: now + 600, exp: now + 700 }],
    ['nbf in the future', { nbf: now + 600 }],
    ['nbf as string', { nbf: 'later' }],
    ['exp in the past', { iat: now - 400, exp: now - 100 }, 'token_expired'],
    ['lifetime beyond the maximum', { iat: now, exp: now + 100_000 }],
    ['old iat with fresh exp', { iat: now - 100_000, exp: now + 10 }, ['token_invalid', 'token_expired'] as unknown as string],
    ['sub missing', { sub: undefined }],
    ['sub as object', { sub: { $ne: null } }],
    ['jti missing', { jti: undefined }],
    ['jti as number', { jti: 7 }],
    ['iss wrong', { iss: 'someone-else' }],
    ['aud wrong', { aud: 'another-api' }],
    ['aud as array without us', { aud: ['x', 'y'] }],
    ['instance_id as number', { instance_id: 1 }],
    ['amr as string', { amr: 'sms' }]
  ]
  for (const [name, changes, code] of claimCases) {
    cases.push(bearer(name, signed(header, { ...payload, ...changes }), code ?? 'token_invalid'))
  }

  const payloadText = JSON.stringify(payload)
  cases.push(bearer('duplicate alg member', raw(`{"alg":"none","alg":"HS256","typ":"at+jwt","kid":${JSON.stringify(header.kid)}}`, payloadText), ['token_invalid']))
  cases.push(bearer('duplicate typ member', raw(`{"alg":"HS256","typ":"JWT","typ":"at+jwt","kid":${JSON.stringify(header.kid)}}`, payloadText), ['token_invalid']))
  cases.push(bearer('duplicate sub member', raw(JSON.stringify(header), payloadText.replace('{', '{"sub":"client:admin",')), ['token_invalid']))
  const other = signed(header, { ...payload, jti: 'another', sub: 'client:other' })
  cases.push(bearer('signature taken from another token', `${s1}.${s2}.${other.split('.')[2] ?? ''}`))
  cases.push(bearer('payload swapped under a valid signature', `${s1}.${other.split('.')[1] ?? ''}.${s3}`))
  cases.push(bearer('alg hs256 in lower case', signed({ ...header, alg: 'hs256' }, payload)))
  cases.push(bearer('kid of a former secret', signed({ ...header, kid: 'hs-AAAAAAAAAAAAAAAA' }, payload)))
  cases.push(bearer('signature over an empty string', `${s1}.${s2}.${mac('', secret)}`))
  cases.push({ name: 'tab after the scheme', status: 401, code: 'token_invalid', request: { path: '/v1/me', headers: { authorization: `Bearer\t${token}`, 'x-instance-id': 'device-1' } } })
  cases.push(bearer('oversize token (4097 characters)', `${s1}.${s2}.${s3}${'A'.repeat(4097 - token.length)}`))

  cases.push({ name: 'no Authorization header', status: 401, code: 'missing_token', request: { path: '/v1/me' } })
  cases.push({ name: 'Basic scheme', status: 401, code: 'token_invalid', request: { path: '/v1/me', headers: { authorization: `Basic ${token}` } } })
  cases.push({ name: 'Bearer without token', status: 401, code: 'token_invalid', request: { path: '/v1/me', headers: { authorization: 'Bearer ' } } })
  cases.push({ name: 'Bearer with two tokens', status: 401, code: 'token_invalid', request: { path: '/v1/me', headers: { authorization: `Bearer ${token} ${token}` } } })
  cases.push({ name: 'valid token without its device header', status: 401, code: 'device_mismatch', request: { path: '/v1/me', headers: { authorization: `Bearer ${token}` } } })
  cases.push({ name: 'valid token with another device header', status: 401, code: 'device_mismatch', request: { path: '/v1/me', headers: { authorization: `Bearer ${token}`, 'x-instance-id': 'device-2' } } })
  cases.push({ name: 'oversize Authorization header (20 KB)', status: 431, code: 'headers_too_large', request: { path: '/v1/me', headers: { authorization: `Bearer ${'a'.repeat(20_000)}` } } })
  cases.push({ name: 'the API key as a bearer token', status: 401, code: 'token_invalid', request: { path: '/v1/me', headers: { authorization: `Bearer ${API_KEY}` } } })

  await runHostileCases(t, target, cases)
  t.ok(cases.length >= 100, `${cases.length} JWT cases`)

  const fine = await send(target.base, { path: '/v1/me', headers: { authorization: `bearer ${token}`, 'x-instance-id': 'device-1' } })
  t.equal(fine.status, 200, 'the untouched token still works (scheme names are case-insensitive)')
})
