import { createHmac } from 'node:crypto'
import { test } from 'tap'
import type { Test } from 'tap'
import type { Env } from '../../lib/config.js'
import { addressAllowList } from '../../routes/flowroute/index.js'
import { flowrouteCode } from '../../lib/verification.js'
import { API_KEY, buildTestApp } from '../helper.js'
import { reply, startFakeProvider } from '../fake-provider.js'

const SECRET = 'webhook-secret-for-tests-0123456789abcdef'

/**
 * Flowroute's client (flowroute/sms-verification, sms_auth_service/client.py) as it behaves: JSON
 * POST to the endpoint, GET with the query, raise_for_status on any 4xx/5xx, then
 * content['message'] and content['reason'] (a KeyError when either is missing) and, on checks,
 * attempts_left when present.
 */
class FlowrouteClientError extends Error {
  constructor (readonly status: number, message: string, readonly strerror: string, readonly attemptsLeft: unknown, readonly contentType: string | null) {
    super(message)
  }
}

class SmsAuthClient {
  constructor (private readonly endpoint: string) {}

  private async settle (response: Response, withAttempts: boolean): Promise<Record<string, unknown>> {
    const content = await response.json() as Record<string, unknown>
    if (response.status < 400) return content
    if (!('message' in content)) throw new Error("KeyError('message')")
    if (!('reason' in content)) throw new Error("KeyError('reason')")
    throw new FlowrouteClientError(response.status, String(content.message), String(content.reason), withAttempts ? content.attempts_left : undefined, response.headers.get('content-type'))
  }

  async createAuth (authId: string, recipient: string): Promise<Record<string, unknown>> {
    const response = await fetch(this.endpoint, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ auth_id: authId, recipient }) })
    return await this.settle(response, false)
  }

  async authenticateCode (authId: string, code: string): Promise<Record<string, unknown>> {
    const response = await fetch(`${this.endpoint}?${new URLSearchParams({ auth_id: authId, code }).toString()}`)
    return await this.settle(response, true)
  }
}

async function failure (promise: Promise<unknown>): Promise<FlowrouteClientError> {
  const error = await promise.then(() => undefined, (caught: unknown) => caught)
  if (!(error instanceof FlowrouteClientError)) throw new Error(`expected Flowroute's HTTPError, got ${String(error)}`)
  return error
}

/** A real port with the compatibility mount and a webhook SMS provider that hands over the codes. */
async function compatServer (t: Test, env: Env = {}): Promise<{ base: string, codes: string[], app: Awaited<ReturnType<typeof buildTestApp>> }> {
  const codes: string[] = []
  const hook = await startFakeProvider(t, (request, response) => {
    t.equal(request.headers['x-tokenmint-signature'], `sha256=${createHmac('sha256', SECRET).update(request.body).digest('hex')}`)
    const code = /^([0-9]+)\n/.exec((JSON.parse(request.body) as { body: string }).body)?.[1]
    if (code !== undefined) codes.push(code)
    reply(200, { ok: true })(request, response)
  })
  const app = await buildTestApp(t, {
    env: { SMS_PROVIDER: 'webhook', SMS_WEBHOOK_URL: `${hook.baseUrl}/sms`, SMS_WEBHOOK_SECRET: SECRET, FLOWROUTE_COMPAT: 'true', CODE_LENGTH: '4', SMS_CHECK_RATE_LIMIT: '1000 per minute', ...env }
  })
  return { base: await app.listen({ host: '127.0.0.1', port: 0 }), codes, app }
}

const RECIPIENT = '15551234567'

test("Flowroute's client runs create, wrong code, right code, expiry and exhaustion against the mount", async (t) => {
  const { base, codes } = await compatServer(t, { SMS_RESEND_COOLDOWN: '0' })
  const client = new SmsAuthClient(`${base}/flowroute`)
  // Expiry on a server of its own with 1-second codes, so a slow machine cannot expire the other flows' codes.
  const expiry = await compatServer(t, { CODE_EXPIRATION: '1' })
  const expiryClient = new SmsAuthClient(`${expiry.base}/flowroute`)

  // create: 200 with Flowroute's body exactly.
  t.same(await client.createAuth('session-1', RECIPIENT), { message: 'Success: Verification code created.', auth_id: 'session-1' })
  const code = codes.at(-1) ?? ''
  t.match(code, /^[0-9]{4}$/)

  // wrong code: 400 Invalid code with the attempts left (Flowroute's README: "the number of attempts remaining").
  const wrong = await failure(client.authenticateCode('session-1', code === '0000' ? '0001' : '0000'))
  t.match(wrong, { status: 400, message: 'Invalid code', strerror: 'InvalidAuthCode', attemptsLeft: 2 })
  t.match(wrong.contentType, /^application\/json/, 'plain JSON, as Flowroute answers')

  // right code: 200, then the auth id is gone as in Flowroute.
  t.same(await client.authenticateCode('session-1', code), { authenticated: true, auth_id: 'session-1', message: 'Success: Authorization code verified.' })
  t.match(await failure(client.authenticateCode('session-1', code)), { status: 400, message: 'Unknown auth id', strerror: 'UnknownAuthId', attemptsLeft: 0 })

  // expiry: 400 Expired code, attempts_left 0.
  await expiryClient.createAuth('session-2', RECIPIENT)
  const expiring = expiry.codes.at(-1) ?? ''
  await new Promise((resolve) => setTimeout(resolve, 1100))
  t.match(await failure(expiryClient.authenticateCode('session-2', expiring)), { status: 400, message: 'Expired code', strerror: 'ExpiredAuthCode', attemptsLeft: 0 })

  // exhaustion: RETRIES_ALLOWED (3) wrong codes, the last with 0 left; then even the right code finds nothing.
  await client.createAuth('session-3', RECIPIENT)
  const right = codes.at(-1) ?? ''
  const other = right === '1111' ? '2222' : '1111'
  const left = []
  for (let i = 0; i < 3; i++) left.push((await failure(client.authenticateCode('session-3', other))).attemptsLeft)
  t.same(left, [2, 1, 0])
  t.match(await failure(client.authenticateCode('session-3', right)), { message: 'Unknown auth id', strerror: 'UnknownAuthId', attemptsLeft: 0 }, 'an exhausted verification is unknown, as Flowroute deletes it')

  // unknown auth id and malformed input, with Flowroute's bodies.
  t.match(await failure(client.authenticateCode('never-created', '1234')), { status: 400, message: 'Unknown auth id', strerror: 'UnknownAuthId', attemptsLeft: 0 })
  t.match(await failure(client.authenticateCode('session-3', 'abcd')), { status: 400, message: 'Input error', strerror: "Required arguments: 'auth_id' (str), 'code' (int)" })
  const missing = await fetch(`${base}/flowroute?auth_id=x`)
  t.equal(missing.status, 400)
  t.same(await missing.json(), { message: 'Input error', reason: "Required arguments: 'auth_id' (str), 'code' (int)" })
  const badCreate = await fetch(`${base}/flowroute`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"auth_id":"x"}' })
  t.equal(badCreate.status, 400)
  t.same(await badCreate.json(), { message: 'Input error', reason: "Required arguments: 'auth_id' (str), 'recipient' (str)" })
  const badPhone = await failure(client.createAuth('session-4', 'not-a-number'))
  t.match(badPhone, { status: 400, message: 'Input error', strerror: /recipient/ })
})

test('codes are compared as Flowroute compares them, as integers, and tokenmint\'s protections stay on', async (t) => {
  const { base, codes } = await compatServer(t, { SMS_RESEND_COOLDOWN: '30', RETRIES_ALLOWED: '10' })
  const client = new SmsAuthClient(`${base}/flowroute/`)
  let n = 0
  for (const spell of [(code: string) => String(Number(code)), (code: string) => ` ${code} `, (code: string) => `+${code}`, (code: string) => `0${code}`]) {
    const authId = `int-${n++}`
    await client.createAuth(authId, RECIPIENT)
    const code = codes.at(-1) ?? ''
    t.match(await failure(client.authenticateCode(authId, '-1')), { message: 'Invalid code', attemptsLeft: 9 }, 'a negative integer is a wrong code that spends an attempt')
    t.match(await failure(client.authenticateCode(authId, '123456')), { message: 'Invalid code', attemptsLeft: 8 }, 'too many digits is a wrong code')
    t.match(await client.authenticateCode(authId, spell(code)), { authenticated: true }, `"${spell(code)}" for ${code}`)
  }
  // A second POST for a pending auth_id is a resend under the cooldown (Flowroute would overwrite and reset attempts).
  await client.createAuth('resend', RECIPIENT)
  const tooSoon = await failure(client.createAuth('resend', RECIPIENT))
  t.match(tooSoon, { status: 429, message: /Wait \d+ s/, strerror: 'ResendTooSoon' })
  // Another recipient for a pending auth_id is refused, not silently redirected.
  t.match(await failure(client.createAuth('resend', '15557654321')), { status: 409, strerror: 'AuthIdInUse' })
})

test('the mount is open to FLOWROUTE_COMPAT_ALLOW addresses only, unless an API key is sent; off by default', async (t) => {
  const { base, codes } = await compatServer(t, { FLOWROUTE_COMPAT_ALLOW: '10.0.0.0/8', FLOWROUTE_COMPAT_PREFIX: '/sms/auth' })
  const refused = await failure(new SmsAuthClient(`${base}/sms/auth`).createAuth('a1', RECIPIENT))
  t.match(refused, { status: 401, strerror: 'InvalidApiKey', message: /X-API-Key/ })
  t.equal(codes.length, 0, 'nothing was sent')
  const withKey = await fetch(`${base}/sms/auth`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-api-key': API_KEY }, body: JSON.stringify({ auth_id: 'a1', recipient: 15551234567 }) })
  t.equal(withKey.status, 200)
  t.same(await withKey.json(), { message: 'Success: Verification code created.', auth_id: 'a1' })
  const wrongKey = await fetch(`${base}/sms/auth?auth_id=a1&code=1234`, { headers: { 'x-api-key': 'not-a-key-0123456789' } })
  t.equal(wrongKey.status, 401)
  t.same(Object.keys(await wrongKey.json() as object).sort(), ['message', 'reason'])
  t.equal((await fetch(`${base}/flowroute`, { method: 'POST' })).status, 404, 'only at the configured prefix')

  const off = await buildTestApp(t)
  t.equal((await off.inject({ method: 'POST', url: '/flowroute', payload: { auth_id: 'x', recipient: RECIPIENT } })).statusCode, 404, 'off unless FLOWROUTE_COMPAT=true')
})

test('checks on the mount share the check budgets of /v1/verifications', async (t) => {
  const { app } = await compatServer(t, { SMS_CHECK_RATE_LIMIT: '3 per minute' })
  const statuses = []
  for (let i = 0; i < 2; i++) statuses.push((await app.inject({ url: '/flowroute?auth_id=shared&code=1234' })).statusCode)
  for (let i = 0; i < 2; i++) statuses.push((await app.inject({ method: 'POST', url: '/v1/verifications/check', headers: { 'x-api-key': API_KEY }, payload: { auth_id: 'shared', code: '1234' } })).statusCode)
  t.same(statuses, [400, 400, 400, 429], 'the per-auth_id budget counts both forms')
  const limited = await app.inject({ url: '/flowroute?auth_id=shared&code=1234' })
  t.equal(limited.statusCode, 429)
  t.match(JSON.parse(limited.body), { message: /Too many requests/, reason: 'RateLimited' })
  t.ok(limited.headers['retry-after'])
})

test('flowrouteCode reads a code as Python\'s int() would', async (t) => {
  t.equal(flowrouteCode('42', 4), '0042')
  t.equal(flowrouteCode(' +0042 ', 4), '0042')
  t.equal(flowrouteCode('4_2', 4), '0042')
  t.equal(flowrouteCode('-0', 4), '0000')
  t.equal(flowrouteCode('-42', 4), null)
  t.equal(flowrouteCode('12345', 4), null)
  for (const text of ['', ' ', '4 2', '4__2', '_42', '0x2a', '4.0', '1e3', '++4']) t.equal(flowrouteCode(text, 4), undefined, JSON.stringify(text))
  const allowed = addressAllowList(['10.0.0.0/8', '::1', '192.0.2.7'])
  t.ok(allowed('10.1.2.3'))
  t.ok(allowed('::ffff:10.1.2.3'), 'IPv4-mapped')
  t.ok(allowed('::1'))
  t.ok(allowed('192.0.2.7'))
  t.notOk(allowed('11.0.0.1'))
  t.notOk(allowed('127.0.0.1'))
})
