import { test } from 'tap'
import { createHash, randomBytes } from 'node:crypto'
import { jwtVerify } from 'jose'
import {
  appVerifyClaims, createAppVerifySigner, decodeCursor, encodeCursor, isValidXid,
  prefersJson, tokenSha256, transactionStatus
} from '../../lib/appverify.js'

const KEY = randomBytes(32)

test('claims are exactly iss, iat (now − backdate), exp (iat + ttl), phn, xid', async (t) => {
  const claims = appVerifyClaims({ customerId: 'CUST-1', nowSeconds: 1_700_000_000, backdate: 10, ttl: 90, phn: '15551234567', xid: 'order-1' })
  t.same(claims, { iss: 'CUST-1', iat: 1_699_999_990, exp: 1_700_000_080, phn: '15551234567', xid: 'order-1' })
  t.same(Object.keys(claims), ['iss', 'iat', 'exp', 'phn', 'xid'])
})

test('the signer writes header {"alg":"HS256","typ":"JWT"} and a token that verifies with the decoded key', async (t) => {
  const sign = createAppVerifySigner(KEY.toString('base64'))
  const nowSeconds = Math.floor(Date.now() / 1000)
  const claims = appVerifyClaims({ customerId: 'CUST-1', nowSeconds, backdate: 10, ttl: 90, phn: '+15551234567', xid: 'x-1' })
  const token = sign(claims)
  const [header, payload] = token.split('.')
  t.equal(Buffer.from(header ?? '', 'base64url').toString('utf8'), '{"alg":"HS256","typ":"JWT"}')
  t.equal(Buffer.from(payload ?? '', 'base64url').toString('utf8'), JSON.stringify(claims), 'payload bytes are the claims, nothing added')
  const verified = await jwtVerify(token, KEY, { algorithms: ['HS256'], issuer: 'CUST-1' })
  t.same(verified.payload, claims)
  t.same(verified.protectedHeader, { alg: 'HS256', typ: 'JWT' })
  await t.rejects(jwtVerify(token, randomBytes(32), { algorithms: ['HS256'] }), 'another key does not verify it')
  await t.rejects(jwtVerify(token, Buffer.from(KEY.toString('base64')), { algorithms: ['HS256'] }), 'the base64 text itself is not the key')
  t.throws(() => createAppVerifySigner(''), /no bytes/)
})

test('tokenSha256 is the hex SHA-256 of the token', async (t) => {
  t.equal(tokenSha256('a.b.c'), createHash('sha256').update('a.b.c').digest('hex'))
  t.match(tokenSha256('x'), /^[0-9a-f]{64}$/)
})

test('xid: 1..128 characters of [A-Za-z0-9._~:-]', async (t) => {
  for (const xid of ['a', 'order-42', 'A.b_c~d:e-f', '7f7e3c3e-94e6-4b8a-9c5c-1f0f3e7a2b11', 'x'.repeat(128)]) t.ok(isValidXid(xid), xid)
  for (const xid of ['', 'x'.repeat(129), 'a b', 'a/b', 'a%2F', 'ñ', '١٢٣', 'a\n', '$gt', 42, null, undefined, {}, ['a']]) {
    t.notOk(isValidXid(xid), JSON.stringify(xid) ?? String(xid))
  }
})

test('text/plain unless the client ranks application/json higher', async (t) => {
  t.notOk(prefersJson(undefined))
  t.notOk(prefersJson('*/*'))
  t.notOk(prefersJson('text/plain'))
  t.notOk(prefersJson('application/json, text/plain, */*'), 'a tie keeps the tutorial\'s text/plain')
  t.notOk(prefersJson('application/json;q=0'))
  t.notOk(prefersJson('application/json;q=abc'))
  t.notOk(prefersJson('image/png'))
  t.ok(prefersJson('application/json'))
  t.ok(prefersJson('Application/JSON'))
  t.ok(prefersJson('application/json, text/plain;q=0.5'))
  t.ok(prefersJson('text/*;q=0.2, application/json'))
})

test('cursors round-trip and anything else is refused', async (t) => {
  const cursor = { issued_at: new Date('2026-01-02T03:04:05.678Z'), xid: 'order-1' }
  const text = encodeCursor(cursor)
  t.match(text, /^[A-Za-z0-9_-]+$/)
  t.same(decodeCursor(text), cursor)
  const b64 = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url')
  const refused = [
    '', 'a'.repeat(513), 'not base64!', Buffer.from('not json').toString('base64url'), b64({ t: 1, x: 'a' }),
    b64([1]), b64([1, 'a', 2]), b64(['1', 'a']), b64([-1, 'a']), b64([1.5, 'a']), b64([1, '']), b64([1, 'a b']),
    b64([1, { $gt: '' }]), b64([Number.MAX_SAFE_INTEGER + 2, 'a']), b64(null)
  ]
  for (const bad of refused) t.equal(decodeCursor(bad), undefined, bad.slice(0, 40))
})

test('status is active until expires_at', async (t) => {
  const at = new Date(10_000)
  t.equal(transactionStatus(at, 9_999), 'active')
  t.equal(transactionStatus(at, 10_000), 'expired')
  t.equal(transactionStatus(at, 20_000), 'expired')
})
