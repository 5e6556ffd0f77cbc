import { test } from 'tap'
import { createHmac } from 'node:crypto'
import { createMemoryStore } from '../../plugins/store/memory.js'
import type { Store } from '../../lib/store.js'
import { API_KEY, buildTestApp } from '../helper.js'
import { startFakeProvider, reply } from '../fake-provider.js'
import type { FakeProvider } from '../fake-provider.js'
import { faultyStore, hostileTarget, send } from './harness.js'
import type { Answer, FaultyStore, HostileRequest, HostileTarget } from './harness.js'

const key = { 'x-api-key': API_KEY }
const b64 = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url')
const password = 'correct horse battery'
// A MongoDB that does not answer: port 1 on loopback refuses every connection.
const UNREACHABLE = 'mongodb://127.0.0.1:1/?directConnection=true'

interface Outage {
  target: HostileTarget
  faults: FaultyStore
  inner: Store
  sms: FakeProvider
  /** The codes the webhook received, by auth_id (latest last). */
  codes: (authId: string) => string[]
}

async function outageTarget (t: Parameters<typeof hostileTarget>[0]): Promise<Outage> {
  const sms = await startFakeProvider(t, reply(200, {}))
  const inner = createMemoryStore()
  let faults: FaultyStore | undefined
  const target = await hostileTarget(t, { SMS_PROVIDER: 'webhook', SMS_WEBHOOK_URL: `${sms.baseUrl}/sms`, SMS_WEBHOOK_SECRET: 'outage-webhook-secret-0123456789abcdef', SMS_RESEND_COOLDOWN: '0' }, () => {
    faults = faultyStore(inner)
    return faults.store
  })
  const codes = (authId: string): string[] => sms.received
    .map((r) => JSON.parse(r.body) as { auth_id: string, body: string })
    .filter((m) => m.auth_id === authId)
    .map((m) => /\d{6}/.exec(m.body)?.[0] ?? '')
  return { target, faults: faults as FaultyStore, inner, sms, codes }
}

function expect503 (t: Parameters<typeof hostileTarget>[0], name: string, answer: Answer, started: number): void {
  t.equal(answer.status, 503, `${name}: 503`)
  t.match(String(answer.headers['content-type']), /^application\/problem\+json/, `${name}: problem+json`)
  t.equal((JSON.parse(answer.body) as { code: string }).code, 'store_unavailable', `${name}: store_unavailable`)
  t.ok(Number(answer.headers['retry-after']) >= 1, `${name}: Retry-After`)
  t.ok(Date.now() - started < 5_000, `${name}: answered within a few seconds`)
}

test('memory store down: every route that needs it is 503 store_unavailable with Retry-After; nothing changes; it all works again after', async (t) => {
  const { target, faults, codes } = await outageTarget(t)
  t.equal((await send(target.base, { method: 'POST', path: '/v1/users', headers: key, body: { username: 'alice-out', password } })).status, 201)
  const token = (JSON.parse((await send(target.base, { method: 'POST', path: '/gen-jwt', headers: key, body: {} })).body) as { token: string }).token
  t.equal((await send(target.base, { method: 'POST', path: '/v1/verifications', headers: key, body: { auth_id: 'out-1', recipient: '+15551234567' } })).status, 201)
  t.equal((await send(target.base, { path: '/v1/token/15551234567/order-out', headers: key })).status, 200)

  const requests: Array<[string, HostileRequest]> = [
    ['gen-jwt', { method: 'POST', path: '/gen-jwt', headers: key, body: { instance_id: 'during' } }],
    ['start a verification', { method: 'POST', path: '/v1/verifications', headers: key, body: { auth_id: 'out-2', recipient: '+15551234568' } }],
    ['resend a verification', { method: 'POST', path: '/v1/verifications', headers: key, body: { auth_id: 'out-1', recipient: '+15551234567' } }],
    ['check (POST)', { method: 'POST', path: '/v1/verifications/check', headers: key, body: { auth_id: 'out-1', code: codes('out-1')[0] } }],
    ['check (GET)', { path: `/v1/verifications?auth_id=out-1&code=${codes('out-1')[0] ?? ''}`, headers: key }],
    ['verification status', { path: '/v1/verifications/out-1', headers: key }],
    ['cancel', { method: 'DELETE', path: '/v1/verifications/out-1', headers: key }],
    ['create a user', { method: 'POST', path: '/v1/users', headers: key, body: { username: 'bob-out', password } }],
    ['delete a user', { method: 'DELETE', path: '/v1/users/alice-out', headers: key }],
    ['login', { method: 'POST', path: '/v1/auth/login', body: { username: 'alice-out', password } }],
    ['revoke', { method: 'POST', path: '/v1/tokens/revoke', headers: key, body: { token } }],
    ['introspect', { method: 'POST', path: '/v1/tokens/introspect', headers: key, body: { token } }],
    ['a bearer route', { path: '/v1/me', headers: { authorization: `Bearer ${token}` } }],
    ['App Verify token', { path: '/v1/token/15551234567', headers: key }],
    ['App Verify token with xid', { path: '/v1/token/15551234567/order-during', headers: key }],
    ['transaction status', { path: '/v1/transactions/order-out', headers: key }],
    ['transaction list', { path: '/v1/transactions?phone_number=15551234567', headers: key }],
    ['readiness', { path: '/health/ready' }]
  ]
  const sent = target.writes()
  const smsBefore = codes('out-1').length + codes('out-2').length
  faults.fail()
  for (const [name, request] of requests) {
    const started = Date.now()
    expect503(t, name, await send(target.base, request), started)
  }
  t.equal((await send(target.base, { path: '/health/live' })).status, 200, 'liveness does not depend on the store')
  t.equal(target.writes(), sent, 'nothing was written during the outage')
  t.equal(codes('out-1').length + codes('out-2').length, smsBefore, 'no SMS went out during the outage')

  faults.heal()
  t.equal((await send(target.base, { path: '/health/ready' })).status, 200, 'ready again')
  const status = JSON.parse((await send(target.base, { path: '/v1/verifications/out-1', headers: key })).body) as { status: string, attempts_left: number, sends_left: number }
  t.match(status, { status: 'pending', attempts_left: 3, sends_left: 4 }, 'the verification is as it was: no attempt spent, no send counted')
  t.equal((await send(target.base, { path: '/v1/verifications/out-2', headers: key })).status, 404, 'the verification started during the outage does not exist')
  t.equal((await send(target.base, { path: '/v1/transactions/order-during', headers: key })).status, 404, 'no transaction from the outage')
  t.equal((await send(target.base, { method: 'POST', path: '/v1/auth/login', body: { username: 'bob-out', password } })).status, 401, 'the user created during the outage does not exist')
  const check = await send(target.base, { method: 'POST', path: '/v1/verifications/check', headers: key, body: { auth_id: 'out-1', code: codes('out-1')[0] } })
  t.equal(check.status, 200, 'the code sent before the outage still works')
  const introspected = JSON.parse((await send(target.base, { method: 'POST', path: '/v1/tokens/introspect', headers: key, body: { token } })).body) as { active: boolean }
  t.equal(introspected.active, true, 'the token was not revoked by the failed revoke')
  t.equal((await send(target.base, { method: 'POST', path: '/v1/users', headers: key, body: { username: 'bob-out', password } })).status, 201, 'the user can be created now')
  t.equal((await send(target.base, { method: 'POST', path: '/v1/auth/login', body: { username: 'alice-out', password } })).status, 200, 'login works again')
})

test('store failing part-way through a request: 503, and nothing half-written once it is back', async (t) => {
  const { target, faults, inner, sms, codes } = await outageTarget(t)
  const at = (repository: string, ...methods: string[]) => (r: string, m: string) => r === repository && methods.includes(m)

  // Created, then the store fails before the SMS: the compensating delete runs and nothing is pending.
  faults.fail(at('verifications', 'reserveRecipientSend'))
  expect503(t, 'start, store fails before the SMS', await send(target.base, { method: 'POST', path: '/v1/verifications', headers: key, body: { auth_id: 'half-1', recipient: '+15551234567' } }), Date.now())
  faults.heal()
  t.equal(await inner.verifications.find('half-1', new Date()), null, 'the created verification was removed')
  t.equal(sms.received.length, 0, 'no SMS went out')

  // Created, then the store fails for good (the compensating delete fails too): the record is only provisional.
  faults.fail(at('verifications', 'reserveRecipientSend', 'remove'))
  expect503(t, 'start, store gone after the insert', await send(target.base, { method: 'POST', path: '/v1/verifications', headers: key, body: { auth_id: 'half-2', recipient: '+15551234567' } }), Date.now())
  faults.heal()
  const orphan = await inner.verifications.find('half-2', new Date())
  t.ok(orphan !== null && orphan.expires_at.getTime() - Date.now() <= 30_000, 'an unconfirmed verification expires within 30 s instead of staying pending for the whole code lifetime')
  t.ok(orphan !== null && orphan.purge_at.getTime() <= orphan.expires_at.getTime() + 60_000, 'and is purged soon after')
  const later = new Date(Date.now() + 31_000)
  t.equal(await inner.verifications.registerAttempt('half-2', later), null, 'after 30 s it cannot be checked')

  // The SMS went out, then the store failed before the code was confirmed: 503, the provisional record expires.
  faults.fail(at('verifications', 'restoreCode'))
  expect503(t, 'start, store gone after the SMS', await send(target.base, { method: 'POST', path: '/v1/verifications', headers: key, body: { auth_id: 'half-3', recipient: '+15551234569' } }), Date.now())
  faults.heal()
  const unconfirmed = await inner.verifications.find('half-3', new Date())
  t.ok(unconfirmed !== null && unconfirmed.expires_at.getTime() - Date.now() <= 30_000, 'not confirmed: expires within 30 s')

  // A delivered verification is confirmed for the whole code lifetime (600 s by default).
  t.equal((await send(target.base, { method: 'POST', path: '/v1/verifications', headers: key, body: { auth_id: 'whole', recipient: '+15551234560' } })).status, 201)
  const whole = await inner.verifications.find('whole', new Date())
  t.ok(whole !== null && whole.expires_at.getTime() - Date.now() > 590_000, 'confirmed after the SMS: the full code lifetime')

  // Resend: the SMS fails and so does restoring the previous code: 503; the verification stays a
  // consistent pending one (a new code nobody received), and the next resend delivers a working code.
  sms.answer = reply(500, {})
  faults.fail(at('verifications', 'restoreCode'))
  expect503(t, 'resend, SMS and then the store fail', await send(target.base, { method: 'POST', path: '/v1/verifications', headers: key, body: { auth_id: 'whole', recipient: '+15551234560' } }), Date.now())
  faults.heal()
  sms.answer = reply(200, {})
  t.match(await inner.verifications.find('whole', new Date()), { status: 'pending', attempts_left: 3 }, 'still pending, no attempt spent')
  t.equal((await send(target.base, { method: 'POST', path: '/v1/verifications', headers: key, body: { auth_id: 'whole', recipient: '+15551234560' } })).status, 201, 'a resend works')
  const latest = codes('whole').at(-1) ?? ''
  t.equal((await send(target.base, { method: 'POST', path: '/v1/verifications/check', headers: key, body: { auth_id: 'whole', code: latest } })).status, 200, 'the code the user received works')

  // Check: an attempt is paid, then the store fails before approval; the attempt stays spent, the code still works.
  t.equal((await send(target.base, { method: 'POST', path: '/v1/verifications', headers: key, body: { auth_id: 'check-1', recipient: '+15551234561' } })).status, 201)
  faults.fail(at('verifications', 'approve'))
  expect503(t, 'check, store gone before approval', await send(target.base, { method: 'POST', path: '/v1/verifications/check', headers: key, body: { auth_id: 'check-1', code: codes('check-1')[0] } }), Date.now())
  faults.heal()
  const afterCheck = await inner.verifications.find('check-1', new Date())
  t.match(afterCheck, { status: 'pending', attempts_left: 2 }, 'one attempt spent, still pending')
  t.equal((await send(target.base, { method: 'POST', path: '/v1/verifications/check', headers: key, body: { auth_id: 'check-1', code: codes('check-1')[0] } })).status, 200, 'the right code then succeeds')

  // Users: the insert fails; no half-created user.
  faults.fail(at('users', 'create'))
  expect503(t, 'create a user', await send(target.base, { method: 'POST', path: '/v1/users', headers: key, body: { username: 'carol-out', password } }), Date.now())
  faults.heal()
  t.equal(await inner.users.find('carol-out'), null, 'no user record')

  // Login: the password matched, then recording the session (its refresh token) fails: no token without a session.
  t.equal((await send(target.base, { method: 'POST', path: '/v1/users', headers: key, body: { username: 'dave-out', password } })).status, 201)
  faults.fail(at('refreshTokens', 'create'))
  const login = await send(target.base, { method: 'POST', path: '/v1/auth/login', body: { username: 'dave-out', password } })
  expect503(t, 'login, session record fails', login, Date.now())
  t.notMatch(login.body, /eyJ/, 'no token in the answer')
  faults.heal()

  // Revoke: verification reads work, the revocation write fails: the token is still active, and revoking again works.
  const token = (JSON.parse((await send(target.base, { method: 'POST', path: '/gen-jwt', headers: key, body: {} })).body) as { token: string }).token
  faults.fail(at('revocations', 'revoke'))
  expect503(t, 'revoke, write fails', await send(target.base, { method: 'POST', path: '/v1/tokens/revoke', headers: key, body: { token } }), Date.now())
  faults.heal()
  t.equal((await send(target.base, { method: 'POST', path: '/v1/tokens/revoke', headers: key, body: { token } })).status, 200)
  t.equal((JSON.parse((await send(target.base, { method: 'POST', path: '/v1/tokens/introspect', headers: key, body: { token } })).body) as { active: boolean }).active, false, 'revoked once the store is back')

  // App Verify: the transaction record fails: no token is handed out that the store does not know.
  faults.fail(at('transactions', 'record'))
  const appVerify = await send(target.base, { path: '/v1/token/15551234567/order-half', headers: key })
  expect503(t, 'App Verify token, record fails', appVerify, Date.now())
  faults.heal()
  t.equal(await inner.transactions.find('order-half'), null)
  t.equal((await send(target.base, { path: '/v1/token/15551234567/order-half', headers: key })).status, 200, 'the same xid can be issued once the store is back')
})

test('MongoDB unreachable: one representative request per route is 503 store_unavailable with Retry-After within a few seconds', async (t) => {
  const app = await buildTestApp(t, { env: { MONGODB_URL: UNREACHABLE, MONGODB_DATABASE: 'tokenmint_outage', RATE_LIMIT_MAX: '100000' } })
  await app.listen({ port: 0, host: '127.0.0.1' })
  const base = new URL(`http://127.0.0.1:${(app.server.address() as { port: number }).port}`)
  t.equal(app.store.kind, 'mongodb')
  // A token that verifies cryptographically, made with the app's own secret: what is left to check needs the store.
  const now = Math.floor(Date.now() / 1000)
  const input = `${b64({ alg: 'HS256', typ: 'at+jwt', kid: app.keyRing.signing.kid })}.${b64({ iss: 'tokenmint', aud: 'tokenmint', sub: 'client:x', iat: now, exp: now + 60, jti: 'mongo-jti' })}`
  const token = `${input}.${createHmac('sha256', app.config.jwt.secret).update(input).digest('base64url')}`
  const requests: Array<[string, HostileRequest]> = [
    ['device gen-jwt', { method: 'POST', path: '/gen-jwt', headers: key, body: { instance_id: 'mongo-device' } }],
    ['start a verification', { method: 'POST', path: '/v1/verifications', headers: key, body: { auth_id: 'mongo-1', recipient: '+15551234567' } }],
    ['check', { method: 'POST', path: '/v1/verifications/check', headers: key, body: { auth_id: 'mongo-1', code: '123456' } }],
    ['create a user', { method: 'POST', path: '/v1/users', headers: key, body: { username: 'erin-out', password } }],
    ['login', { method: 'POST', path: '/v1/auth/login', body: { username: 'erin-out', password } }],
    ['revoke', { method: 'POST', path: '/v1/tokens/revoke', headers: key, body: { token } }],
    ['introspect', { method: 'POST', path: '/v1/tokens/introspect', headers: key, body: { token } }],
    ['App Verify token', { path: '/v1/token/15551234567', headers: key }],
    ['transaction list', { path: '/v1/transactions?phone_number=15551234567', headers: key }],
    ['readiness', { path: '/health/ready' }]
  ]
  for (const [name, request] of requests) {
    const started = Date.now()
    const answer = await send(base, request)
    expect503(t, name, answer, started)
    t.notMatch(answer.body, /127\.0\.0\.1|mongodb:/, `${name}: the database address does not leak`)
  }
  t.equal((await send(base, { path: '/health/live' })).status, 200)
  t.equal((await send(base, { method: 'POST', path: '/gen-jwt', headers: key, body: {} })).status, 200, 'a generic token is signed, not stored, so it needs no store')
})
