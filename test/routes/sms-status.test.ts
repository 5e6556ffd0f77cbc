import { test } from 'tap'
import { API_KEY, buildTestApp, json } from '../helper.js'
import { reply, startFakeProvider } from '../fake-provider.js'
import { twilioSignature } from '../../routes/sms-status/index.js'

const AUTH_TOKEN = 'twilio-auth-token-0123456789abcdef'
const PUBLIC_URL = 'https://tokens.example.com'
const CALLBACK = `${PUBLIC_URL}/v1/sms/status/twilio`

test('Twilio status callbacks: signed ones move the delivery forward, a bad signature is refused', async (t) => {
  let n = 0
  const twilio = await startFakeProvider(t, (request, response) => {
    n++
    reply(201, { sid: `SM${String(n).padStart(32, '0')}`, status: 'queued' })(request, response)
  })
  const app = await buildTestApp(t, {
    env: {
      SMS_PROVIDER: 'twilio',
      TWILIO_ACCOUNT_SID: `AC${'a'.repeat(32)}`,
      TWILIO_AUTH_TOKEN: AUTH_TOKEN,
      TWILIO_FROM: '+15005550006',
      TWILIO_BASE_URL: twilio.baseUrl,
      PUBLIC_URL
    }
  })
  const key = { 'x-api-key': API_KEY }
  t.equal((await app.inject({ method: 'POST', url: '/v1/verifications', headers: key, payload: { auth_id: 'tw-1', recipient: '+15551234567' } })).statusCode, 201)
  const sent = new URLSearchParams(twilio.received[0]?.body)
  t.equal(sent.get('StatusCallback'), CALLBACK, 'every send names the callback')
  const status = async (): Promise<unknown> => json(await app.inject({ url: '/v1/verifications/tw-1', headers: key })).delivery
  t.equal(await status(), 'queued')

  // Twilio's callbacks arrive over a real port.
  const address = await app.listen({ host: '127.0.0.1', port: 0 })
  const callback = async (params: Record<string, string>, signature = twilioSignature(AUTH_TOKEN, CALLBACK, params)): Promise<number> =>
    (await fetch(`${address}/v1/sms/status/twilio`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': signature }, body: new URLSearchParams(params).toString() })).status
  const sid = `SM${'1'.padStart(32, '0')}`
  const base = { AccountSid: `AC${'a'.repeat(32)}`, MessageSid: sid, SmsSid: sid, To: '+15551234567', ApiVersion: '2010-04-01' }

  t.equal(await callback({ ...base, MessageStatus: 'sent', SmsStatus: 'sent' }), 204)
  t.equal(await status(), 'sent')
  t.equal(await callback({ ...base, MessageStatus: 'delivered' }, 'bm90IGEgc2lnbmF0dXJl'), 403, 'a forged callback is refused')
  t.equal(await callback({ ...base, MessageStatus: 'delivered' }, twilioSignature('another-token-0000000000000000', CALLBACK, { ...base, MessageStatus: 'delivered' })), 403, 'signed with another token')
  t.equal(await callback({ ...base, MessageStatus: 'delivered' }, twilioSignature(AUTH_TOKEN, CALLBACK, { ...base, MessageStatus: 'sent' })), 403, 'the signature covers the parameters')
  t.equal(await status(), 'sent', 'refused callbacks change nothing')
  t.equal(await callback({ ...base, MessageStatus: 'delivered' }), 204)
  t.equal(await status(), 'delivered')
  t.equal(await callback({ ...base, MessageStatus: 'sent' }), 204, 'a late callback is taken')
  t.equal(await status(), 'delivered', 'but never moves the delivery back')
  t.equal(await callback({ ...base, MessageSid: 'SM-unknown', MessageStatus: 'failed' }), 204, 'an unknown message is ignored')
  t.equal(await callback({ ...base, MessageStatus: 'mystery' }), 204)
  const missing = await app.inject({ method: 'POST', url: '/v1/sms/status/twilio', headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: 'MessageStatus=sent' })
  t.equal(missing.statusCode, 400)

  // Another verification whose SMS is undelivered.
  await app.inject({ method: 'POST', url: '/v1/verifications', headers: key, payload: { auth_id: 'tw-2', recipient: '+15551234568' } })
  const second = `SM${'2'.padStart(32, '0')}`
  t.equal(await callback({ ...base, MessageSid: second, MessageStatus: 'undelivered', ErrorCode: '30003' }), 204)
  t.equal(json(await app.inject({ url: '/v1/verifications/tw-2', headers: key })).delivery, 'undelivered')
})

test('the callback route exists only with Twilio; without PUBLIC_URL sends name no callback', async (t) => {
  const plain = await buildTestApp(t)
  t.equal((await plain.inject({ method: 'POST', url: '/v1/sms/status/twilio', payload: {} })).statusCode, 404)
  const twilio = await startFakeProvider(t, reply(201, { sid: `SM${'9'.repeat(32)}` }))
  const app = await buildTestApp(t, { env: { SMS_PROVIDER: 'twilio', TWILIO_ACCOUNT_SID: `AC${'b'.repeat(32)}`, TWILIO_AUTH_TOKEN: AUTH_TOKEN, TWILIO_FROM: '+15005550006', TWILIO_BASE_URL: twilio.baseUrl } })
  await app.inject({ method: 'POST', url: '/v1/verifications', headers: { 'x-api-key': API_KEY }, payload: { auth_id: 'tw-3', recipient: '+15551234567' } })
  t.equal(new URLSearchParams(twilio.received[0]?.body).get('StatusCallback'), null)
  t.equal(json(await app.inject({ url: '/v1/verifications/tw-3', headers: { 'x-api-key': API_KEY } })).delivery, 'queued', 'the message id is kept anyway')
})

test('twilioSignature matches the documented algorithm', async (t) => {
  // HMAC-SHA1 over the URL and the sorted name/value pairs, base64.
  const { createHmac } = await import('node:crypto')
  const expected = createHmac('sha1', 'token').update('https://x.example/cbA1B2').digest('base64')
  t.equal(twilioSignature('token', 'https://x.example/cb', { B: '2', A: '1' }), expected)
})

test('without PUBLIC_URL the signature is checked against the address Twilio called; a request without one is refused', async (t) => {
  const twilio = await startFakeProvider(t, reply(201, { sid: `SM${'7'.repeat(32)}` }))
  const app = await buildTestApp(t, { env: { SMS_PROVIDER: 'twilio', TWILIO_ACCOUNT_SID: `AC${'c'.repeat(32)}`, TWILIO_AUTH_TOKEN: AUTH_TOKEN, TWILIO_FROM: '+15005550006', TWILIO_BASE_URL: twilio.baseUrl } })
  await app.inject({ method: 'POST', url: '/v1/verifications', headers: { 'x-api-key': API_KEY }, payload: { auth_id: 'tw-4', recipient: '+15551234567' } })
  const params = { MessageSid: `SM${'7'.repeat(32)}`, MessageStatus: 'failed', Empty: '' }
  const payload = new URLSearchParams(params).toString()
  const unsigned = await app.inject({ method: 'POST', url: '/v1/sms/status/twilio', headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload })
  t.equal(unsigned.statusCode, 403)
  t.equal(JSON.parse(unsigned.body).code, 'invalid_signature')
  const signed = await app.inject({ method: 'POST', url: '/v1/sms/status/twilio', headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': twilioSignature(AUTH_TOKEN, 'http://localhost:80/v1/sms/status/twilio', params) }, payload })
  t.equal(signed.statusCode, 204)
  t.equal(json(await app.inject({ url: '/v1/verifications/tw-4', headers: { 'x-api-key': API_KEY } })).delivery, 'failed')
})

const FLOWROUTE_SECRET = 'flowroute-secret-key-0123456789'

test('Flowroute delivery receipts: each send names its dlr_callback; receipts at that URL move the delivery forward, others are refused', async (t) => {
  const { createServer } = await import('node:http')
  const { writeFileSync } = await import('node:fs')
  const { join } = await import('node:path')
  const { flowrouteReceiptToken } = await import('../../plugins/sms/flowroute.js')
  let n = 0
  const flowroute = await startFakeProvider(t, (request, response) => {
    n++
    reply(202, { data: { type: 'message', id: `mdr2-${String(n).padStart(32, 'a')}` } }, 'application/vnd.api+json')(request, response)
  })
  // A webhook receiver for sms.delivery_failed.
  const events: Array<Record<string, unknown>> = []
  const hooks = createServer((request, response) => {
    let body = ''
    request.on('data', (chunk: Buffer) => { body += chunk.toString('utf8') })
    request.on('end', () => { events.push(JSON.parse(body) as Record<string, unknown>); response.writeHead(204).end() })
  })
  await new Promise<void>((resolve) => hooks.listen(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise<void>((resolve) => { hooks.closeAllConnections(); hooks.close(() => { resolve() }) }))
  const file = join(t.testdir(), 'webhooks.json')
  writeFileSync(file, JSON.stringify({ endpoints: [{ id: 'ops', url: `http://127.0.0.1:${(hooks.address() as { port: number }).port}/`, secret: 'c'.repeat(40), events: ['sms.delivery_failed'] }] }))

  const app = await buildTestApp(t, {
    env: {
      SMS_PROVIDER: 'flowroute',
      FLOWROUTE_ACCESS_KEY: 'access',
      FLOWROUTE_SECRET_KEY: FLOWROUTE_SECRET,
      FLOWROUTE_NUMBER: '12065550100',
      FLOWROUTE_BASE_URL: flowroute.baseUrl,
      PUBLIC_URL,
      WEBHOOKS_FILE: file,
      WEBHOOK_RETRY_BASE_MS: '20'
    }
  })
  const key = { 'x-api-key': API_KEY }
  t.equal((await app.inject({ method: 'POST', url: '/v1/verifications', headers: key, payload: { auth_id: 'fr-1', recipient: '+15551234567' } })).statusCode, 201)
  const token = flowrouteReceiptToken(FLOWROUTE_SECRET)
  t.match(token, /^[A-Za-z0-9_-]{43}$/)
  const sent = JSON.parse(flowroute.received[0]?.body ?? '{}') as Record<string, unknown>
  t.equal(sent.dlr_callback, `${PUBLIC_URL}/v1/sms/status/flowroute/${token}`, 'every send names the receipt URL')
  t.notMatch(String(sent.dlr_callback), FLOWROUTE_SECRET, 'which does not hold the secret key')
  const status = async (id: string): Promise<unknown> => json(await app.inject({ url: `/v1/verifications/${id}`, headers: key })).delivery
  t.equal(await status('fr-1'), 'queued')

  // Flowroute's receipt: JSON:API, the message text in attributes.body (holds the code; never read).
  const receipt = (id: string, statusText: string, level = 2, extra: Record<string, unknown> = {}): Record<string, unknown> => ({
    data: {
      id,
      type: 'delivery_receipt',
      attributes: { body: 'Your code is 123456', level, status: statusText, status_code: level === 1 ? '1003' : '1000', status_code_description: 'carrier said so', timestamp: '2026-12-01T10:00:00.00Z', ...extra },
      links: { related: `https://api.flowroute.com/v2.1/messages/${id}` }
    }
  })
  // Flowroute's receipts arrive over a real port.
  const base = await app.listen({ host: '127.0.0.1', port: 0 })
  const post = async (body: unknown, path = token, contentType = 'application/vnd.api+json'): Promise<{ statusCode: number, body: string }> => {
    const response = await fetch(`${base}/v1/sms/status/flowroute/${path}`, { method: 'POST', headers: { 'content-type': contentType }, body: JSON.stringify(body) })
    return { statusCode: response.status, body: await response.text() }
  }
  const first = `mdr2-${'1'.padStart(32, 'a')}`

  const buffered = await post(receipt(first, 'message buffered', 1))
  t.equal(buffered.statusCode, 200, 'Flowroute expects 200')
  t.equal(buffered.body, '')
  t.equal(await status('fr-1'), 'sent', 'level 1: handed to the carrier')
  const forged = await post(receipt(first, 'delivery success'), 'A'.repeat(43))
  t.equal(forged.statusCode, 403)
  t.equal(JSON.parse(forged.body).code, 'invalid_signature')
  t.equal((await post(receipt(first, 'delivery success'), flowrouteReceiptToken('another-secret-key-000000000000'))).statusCode, 403, 'another deployment\'s token')
  t.equal((await post(receipt(first, 'delivery success'), 'x'.repeat(65))).statusCode, 400, 'an oversized token')
  t.equal(await status('fr-1'), 'sent', 'refused receipts change nothing')
  t.equal((await post(receipt(first, 'Delivery_Success'), token, 'application/json')).statusCode, 200, 'plain JSON, any case')
  t.equal(await status('fr-1'), 'delivered')
  t.equal((await post(receipt(first, 'smsc submit', 1))).statusCode, 200, 'a late receipt is taken')
  t.equal(await status('fr-1'), 'delivered', 'but never moves the delivery back')
  t.equal((await post(receipt('mdr2-unknown', 'delivery failure'))).statusCode, 200, 'an unknown message is ignored')
  t.equal((await post(receipt(first, 'something new'))).statusCode, 200, 'an unknown status is ignored')
  t.equal((await post({ data: { id: first } })).statusCode, 400, 'a receipt without attributes')
  t.equal((await post(receipt(first, 'delivered', 2, { level: [] }))).statusCode, 400, 'a level that is neither number nor string')
  const broken = await app.inject({ method: 'POST', url: `/v1/sms/status/flowroute/${token}`, headers: { 'content-type': 'application/vnd.api+json' }, payload: '{"data":' })
  t.equal(broken.statusCode, 400)
  t.equal(JSON.parse(broken.body).code, 'malformed_json')
  t.equal((await app.inject({ method: 'POST', url: `/v1/sms/status/flowroute/${token}`, headers: { 'content-type': 'text/plain' }, payload: 'x' })).statusCode, 415)

  // A second verification whose SMS the carrier could not deliver: the delivery and the event.
  t.equal((await app.inject({ method: 'POST', url: '/v1/verifications', headers: key, payload: { auth_id: 'fr-2', recipient: '+15551234568' } })).statusCode, 201)
  t.equal((await post(receipt(`mdr2-${'2'.padStart(32, 'a')}`, 'delivery failure', 2, { status_code: 1040 }))).statusCode, 200)
  t.equal(await status('fr-2'), 'undelivered')
  const deadline = Date.now() + 5000
  while (events.length === 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 25))
  t.equal(events.length, 1, 'one sms.delivery_failed')
  t.match(events[0], { type: 'sms.delivery_failed', data: { auth_id: 'fr-2', provider: 'flowroute', reason: 'undelivered (Flowroute status 1040)' } })
  t.notMatch(JSON.stringify(events), /123456/, 'the message text never leaves')
})

test('without PUBLIC_URL Flowroute sends name no dlr_callback, and the receipt route exists only with Flowroute', async (t) => {
  const flowroute = await startFakeProvider(t, reply(202, { data: { type: 'message', id: 'mdr2-plain' } }))
  const app = await buildTestApp(t, { env: { SMS_PROVIDER: 'flowroute', FLOWROUTE_ACCESS_KEY: 'access', FLOWROUTE_SECRET_KEY: FLOWROUTE_SECRET, FLOWROUTE_NUMBER: '12065550100', FLOWROUTE_BASE_URL: flowroute.baseUrl } })
  await app.inject({ method: 'POST', url: '/v1/verifications', headers: { 'x-api-key': API_KEY }, payload: { auth_id: 'fr-3', recipient: '+15551234567' } })
  t.notOk('dlr_callback' in (JSON.parse(flowroute.received[0]?.body ?? '{}') as object))
  t.equal(json(await app.inject({ url: '/v1/verifications/fr-3', headers: { 'x-api-key': API_KEY } })).delivery, 'queued', 'the mdr2 id is kept anyway')
  const plain = await buildTestApp(t)
  t.equal((await plain.inject({ method: 'POST', url: '/v1/sms/status/flowroute/x', payload: {} })).statusCode, 404)
})
