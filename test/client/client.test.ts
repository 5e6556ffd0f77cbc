import { createHmac } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { parse as parseYaml } from 'yaml'
import { test } from 'tap'
import type { Test } from 'tap'
import type { Env } from '../../lib/config.js'
import { createClient, TokenmintError } from '../../client/index.js'
import type { TokenmintClient } from '../../client/index.js'
import { API_KEY, buildTestApp, decodeJwt } from '../helper.js'
import { reply, startFakeProvider } from '../fake-provider.js'

const SECRET = 'webhook-secret-for-client-tests-0123456789'
const PHONE = '+15551234567'

interface Harness {
  baseUrl: string
  /** The server-side client (API key). */
  backend: TokenmintClient
  /** SMS codes by auth_id, as the webhook "phone" received them. */
  codes: Map<string, string>
}

/** The real app on 127.0.0.1:0, SMS through a signed webhook to a local receiver. */
async function harness (t: Test, env: Env = {}): Promise<Harness> {
  const codes = new Map<string, string>()
  const phone = await startFakeProvider(t, (request, response) => {
    const signature = `sha256=${createHmac('sha256', SECRET).update(request.body).digest('hex')}`
    t.equal(request.headers['x-tokenmint-signature'], signature, 'the SMS webhook is signed')
    const message = JSON.parse(request.body) as { auth_id: string, body: string }
    const code = /^([0-9]+)\n/.exec(message.body)?.[1]
    if (code !== undefined) codes.set(message.auth_id, code)
    reply(200, { ok: true })(request, response)
  })
  const app = await buildTestApp(t, {
    env: {
      SMS_PROVIDER: 'webhook',
      SMS_WEBHOOK_URL: `${phone.baseUrl}/sms`,
      SMS_WEBHOOK_SECRET: SECRET,
      RATE_LIMIT_MAX: '100000',
      APPVERIFY_RATE_LIMIT: '1000 per second',
      SMS_CHECK_RATE_LIMIT: '1000 per minute',
      ...env
    }
  })
  await app.listen({ host: '127.0.0.1', port: 0 })
  const address = app.server.address()
  const baseUrl = `http://127.0.0.1:${typeof address === 'object' && address !== null ? address.port : 0}/`
  return { baseUrl, backend: createClient({ baseUrl, apiKey: API_KEY }), codes }
}

/** Runs `call` and returns the TokenmintError it must throw. */
async function failure (t: Test, call: () => Promise<unknown>): Promise<TokenmintError> {
  try {
    await call()
  } catch (error) {
    t.type(error, TokenmintError)
    return error as TokenmintError
  }
  t.fail('expected a TokenmintError')
  throw new Error('no error was thrown')
}

test('mobile flow: the backend mints a device-bound token, the app uses it like an SDK', async (t) => {
  const { baseUrl, backend } = await harness(t)
  const minted = await backend.genJwt({ instance_id: 'device-7' })
  t.match(minted, { token_type: 'Bearer', expires_in: 300, instance_id: 'device-7', token: /^[\w-]+\.[\w-]+\.[\w-]+$/ })
  t.equal(minted.expires_at, new Date((decodeJwt(minted.token).payload.exp as number) * 1000).toISOString())

  const app = backend.withToken(minted.token, 'device-7')
  const me = await app.me()
  t.match(me, { sub: 'instance:device-7', instance_id: 'device-7', jti: decodeJwt(minted.token).payload.jti })

  const noDevice = await failure(t, () => backend.withToken(minted.token).me())
  t.match(noDevice, { status: 401, code: 'device_mismatch', problem: { status: 401, code: 'device_mismatch', type: String, title: String } })
  t.equal(noDevice.message, noDevice.problem?.detail)
  t.equal(noDevice.name, 'TokenmintError')

  const wrongKey = await failure(t, () => createClient({ baseUrl, apiKey: 'not-the-key-0123456789' }).genJwt())
  t.match(wrongKey, { status: 401, code: 'invalid_api_key', reason: undefined, attemptsLeft: undefined, retryAfter: undefined })

  const anonymous = await failure(t, () => createClient({ baseUrl }).me())
  t.match(anonymous, { status: 401, code: 'missing_token' })

  const generic = await backend.genJwt()
  t.notOk('instance_id' in generic && generic.instance_id !== undefined, 'no instance_id without one')
  t.match(await backend.withToken(generic.token).me(), { sub: /^client:/ })

  const invalid = await failure(t, () => backend.genJwt({ instance_id: 7 } as unknown as { instance_id: string }))
  t.match(invalid, { status: 400, code: 'invalid_request' })
})

test('App Verify tokens and their transactions', async (t) => {
  const { backend } = await harness(t)
  const issued = await backend.appVerifyTokenForXid(PHONE, 'order-42')
  t.match(issued, { xid: 'order-42', phone_number: PHONE, expires_at: String })
  t.match(decodeJwt(issued.token).payload, { phn: PHONE, xid: 'order-42' })

  const again = await failure(t, () => backend.appVerifyTokenForXid(PHONE, 'order-42'))
  t.match(again, { status: 409, code: 'xid_exists' })

  const fresh = await backend.appVerifyToken('15551234567')
  t.match(fresh, { phone_number: PHONE, xid: String })
  t.not(fresh.xid, 'order-42')

  const minted = await backend.genJwt({ instance_id: 'device-7' })
  const fromApp = await backend.withToken(minted.token, 'device-7').appVerifyToken(PHONE)
  t.equal(fromApp.phone_number, PHONE, 'a mobile token may ask for an App Verify token too')

  t.match(await backend.transaction('order-42'), { xid: 'order-42', phone_number: PHONE, status: 'active', issued_at: String, expires_at: issued.expires_at })
  t.match(await failure(t, () => backend.transaction('no-such-xid')), { status: 404, code: 'not_found' })

  const first = await backend.transactions({ phone_number: PHONE, limit: 2 })
  t.equal(first.items.length, 2)
  t.type(first.next_cursor, 'string')
  const second = await backend.transactions({ phone_number: PHONE, limit: 2, cursor: String(first.next_cursor) })
  t.equal(second.items.length, 1)
  const xids = [...first.items, ...second.items].map((item) => item.xid)
  t.same(xids.sort(), [fromApp.xid, fresh.xid, 'order-42'].sort(), 'every transaction once, across pages')
  t.match(await failure(t, () => backend.transactions({ phone_number: 'not-a-phone' })), { status: 400 })
})

test('SMS verification: create, wrong code, right code, status, query form, cancel', async (t) => {
  const { backend, codes } = await harness(t)
  const started = await backend.createVerification({ auth_id: 'signup-1', recipient: PHONE })
  t.match(started, { auth_id: 'signup-1', status: 'pending', recipient: '+1******4567', attempts_left: 3 })
  const code = codes.get('signup-1') ?? ''
  t.match(code, /^[0-9]{6}$/)

  const wrong = await failure(t, () => backend.checkVerification({ auth_id: 'signup-1', code: code === '000000' ? '111111' : '000000' }))
  t.match(wrong, { status: 400, code: 'invalid_auth_code', reason: 'InvalidAuthCode', attemptsLeft: 2, problem: { verification_status: 'pending', message: String } })

  const approved = await backend.checkVerification({ auth_id: 'signup-1', code })
  t.match(approved, { authenticated: true, auth_id: 'signup-1', status: 'approved', message: 'Success: Authorization code verified.' })
  const verified = backend.withToken(String(approved.token))
  t.match(await verified.me(), { sub: `phone:${PHONE}`, amr: ['sms'] })
  t.match(await backend.verificationStatus('signup-1'), { auth_id: 'signup-1', status: 'approved', attempts_left: 2 })

  await backend.createVerification({ auth_id: 'signup-2', recipient: '15551234567' })
  const byQuery = await backend.checkVerificationByQuery({ auth_id: 'signup-2', code: codes.get('signup-2') ?? '' })
  t.match(byQuery, { authenticated: true, auth_id: 'signup-2', status: 'approved' })
  const unknown = await failure(t, () => backend.checkVerificationByQuery({ auth_id: 'nobody', code: '123456' }))
  t.match(unknown, { status: 400, reason: 'UnknownAuthId' })

  await backend.createVerification({ auth_id: 'signup-3', recipient: PHONE })
  t.equal(await backend.cancelVerification('signup-3'), undefined)
  t.match(await backend.verificationStatus('signup-3'), { status: 'canceled' })
  const canceled = await failure(t, () => backend.checkVerification({ auth_id: 'signup-3', code: codes.get('signup-3') ?? '' }))
  t.match(canceled, { status: 400, code: String, reason: String })
  t.match(await failure(t, () => backend.cancelVerification('nobody')), { status: 404 })
  t.match(await failure(t, () => backend.verificationStatus('nobody')), { status: 404 })
})

test('users, login, revocation and introspection', async (t) => {
  const { baseUrl, backend } = await harness(t)
  t.match(await backend.createUser({ username: 'Alice', password: 'correct horse battery' }), { username: 'alice', created_at: String })
  t.match(await failure(t, () => backend.createUser({ username: 'alice', password: 'correct horse battery' })), { status: 409, code: 'user_exists' })

  const visitor = createClient({ baseUrl })
  const session = await visitor.login({ username: 'alice', password: 'correct horse battery' })
  t.match(session, { token_type: 'Bearer', expires_in: 300 })
  const alice = visitor.withToken(session.token)
  t.match(await alice.me(), { sub: 'user:alice', amr: ['pwd'] })
  t.match(await backend.introspect(session.token), { active: true, sub: 'user:alice', username: 'alice' })

  t.same(await alice.revoke(session.token), {}, 'a user revokes their own token with it')
  t.match(await failure(t, () => alice.me()), { status: 401, code: 'token_revoked' })
  t.same(await backend.introspect(session.token), { active: false })
  t.same(await backend.revoke('not-a-token'), {}, 'RFC 7009: the same answer for anything')

  const second = await visitor.login({ username: 'alice', password: 'correct horse battery' })
  t.equal(await backend.deleteUser('alice'), undefined)
  t.same(await backend.introspect(second.token), { active: false }, 'tokens of a deleted user stop working')
  t.match(await failure(t, () => visitor.login({ username: 'alice', password: 'correct horse battery' })), { status: 401, code: 'invalid_credentials' })
  t.match(await failure(t, () => backend.deleteUser('alice')), { status: 404, code: 'user_not_found' })
})

test('health, JWKS and Retry-After', async (t) => {
  const { backend } = await harness(t, { APPVERIFY_RATE_LIMIT: '1 per minute', JWT_ALGORITHM: 'ES256' })
  t.match(await backend.health(), { status: 'ok' })
  t.match(await backend.ready(), { status: 'ok' })
  t.match(await backend.authorizationServerMetadata(), { issuer: String, revocation_endpoint: /\/v1\/tokens\/revoke$/ })
  const { keys } = await backend.jwks()
  t.equal(keys.length, 1)
  t.match(keys[0], { kty: 'EC', crv: 'P-256', alg: 'ES256', use: 'sig', kid: String })
  t.notOk(keys[0] !== undefined && 'd' in keys[0], 'no private member')

  await backend.appVerifyToken(PHONE)
  const limited = await failure(t, () => backend.appVerifyToken(PHONE))
  t.equal(limited.status, 429)
  t.ok(limited.retryAfter !== undefined && limited.retryAfter > 0 && limited.retryAfter <= 60, `retryAfter ${String(limited.retryAfter)} s`)
})

test('failures that are not problem+json answers', async (t) => {
  const { baseUrl } = await harness(t)
  const offline = createClient({ baseUrl: 'http://127.0.0.1:1', apiKey: API_KEY })
  const network = await failure(t, () => offline.health())
  t.match(network, { status: 0, code: 'network_error', problem: undefined })
  t.ok(network.cause instanceof Error, 'the fetch error is the cause')

  const later = new Date(Date.now() + 120_000).toUTCString()
  const requests: Array<{ url: string, headers: Record<string, string> }> = []
  const proxy = createClient({
    baseUrl,
    apiKey: API_KEY,
    fetch: async (input, init) => {
      requests.push({ url: String(input), headers: init?.headers as Record<string, string> })
      return new Response('<html>Bad gateway</html>', { status: 502, headers: { 'content-type': 'text/html', 'retry-after': later } })
    }
  })
  const gateway = await failure(t, () => proxy.health())
  t.match(gateway, { status: 502, code: 'unexpected_response', problem: undefined })
  t.ok(gateway.retryAfter !== undefined && gateway.retryAfter > 100 && gateway.retryAfter <= 120, 'an HTTP-date Retry-After becomes seconds')
  t.equal(requests[0]?.headers['x-api-key'], API_KEY)

  await failure(t, () => proxy.withToken('tok', 'device-9').me())
  t.same(requests[1]?.headers, { accept: 'application/json', authorization: 'Bearer tok', 'x-instance-id': 'device-9' }, 'withToken sends no API key, custom fetch kept')
  await failure(t, () => proxy.transactions({ phone_number: '+15551234567', limit: 5 }))
  t.equal(requests[2]?.url, `${baseUrl}v1/transactions?phone_number=%2B15551234567&limit=5`, 'query encoded, base URL slash handled')
})

test('every operation in openapi.yaml is a client method named by its operationId', async (t) => {
  const document = parseYaml(readFileSync(new URL('../../openapi.yaml', import.meta.url), 'utf8')) as { paths: Record<string, Record<string, { operationId?: string }>> }
  const client = createClient({ baseUrl: 'http://127.0.0.1:1' }) as unknown as Record<string, unknown>
  const operationIds = Object.values(document.paths).flatMap((operations) => Object.values(operations).map((operation) => operation.operationId))
  t.ok(operationIds.length >= 20)
  for (const operationId of operationIds) {
    t.type(operationId, 'string', 'the operation has an operationId')
    t.type(client[String(operationId)], 'function', `client.${String(operationId)}()`)
  }
  t.equal(new Set(operationIds).size, operationIds.length, 'operationIds are unique')
})
