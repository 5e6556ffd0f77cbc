import { createHmac } from 'node:crypto'
import { createServer } from 'node:net'
import type { AddressInfo } from 'node:net'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { test } from 'tap'
import { createSmsSender } from '../../plugins/sms.js'
import { createConsoleSender } from '../../plugins/sms/console.js'
import { createFlowrouteSender } from '../../plugins/sms/flowroute.js'
import { postToProvider } from '../../plugins/sms/http.js'
import { createTwilioSender } from '../../plugins/sms/twilio.js'
import { SmsDeliveryError } from '../../lib/sms.js'
import { createWebhookSender, webhookSignature } from '../../plugins/sms/webhook.js'
import { testConfig } from '../helper.js'
import { drop, hang, reply, startFakeProvider } from '../fake-provider.js'

const message = { to: '+15551234567', body: '012345\nWelcome to Acme!', authId: 'signup-42' }
/** The log-safe reason of the SmsDeliveryError a send fails with. */
async function reasonOf (sending: Promise<unknown>): Promise<string | undefined> {
  return await sending.then(() => undefined, (error: unknown) => error instanceof SmsDeliveryError ? error.reason : `not an SmsDeliveryError: ${String(error)}`)
}
const basic = (user: string, password: string): string => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`

test('flowroute: POST /v2.1/messages, basic auth, JSON:API body with 11-digit numbers; 202 with mdr2 id', async (t) => {
  const flowroute = await startFakeProvider(t, reply(202, {
    data: { links: { self: 'https://api.flowroute.com/v2.1/messages/mdr2-39cadeace66e11e7aff806cd7f24ba2d' }, type: 'message', id: 'mdr2-39cadeace66e11e7aff806cd7f24ba2d' }
  }, 'application/vnd.api+json'))
  const sender = createFlowrouteSender({ accessKey: 'access-key', secretKey: 'secret-key', number: '+12065550101', baseUrl: flowroute.baseUrl })
  t.equal(sender.provider, 'flowroute')
  await sender.send(message)
  t.equal(flowroute.received.length, 1)
  const [request] = flowroute.received
  t.equal(request?.method, 'POST')
  t.equal(request?.url, '/v2.1/messages')
  t.equal(request?.headers.authorization, basic('access-key', 'secret-key'))
  t.equal(request?.headers['content-type'], 'application/vnd.api+json')
  t.same(JSON.parse(request?.body ?? ''), { to: '15551234567', from: '12065550101', body: message.body })
})

test('flowroute: 401 and 422 are delivery failures, not retried; a 202 without id is a failure', async (t) => {
  const flowroute = await startFakeProvider(t, reply(401, { errors: [{ id: 'x', status: 401, detail: 'Unauthorized', title: 'Unauthorized' }] }))
  const sender = createFlowrouteSender({ accessKey: 'a', secretKey: 'b', number: '12065550101', baseUrl: flowroute.baseUrl })
  await t.rejects(sender.send(message), new SmsDeliveryError('flowroute answered HTTP 401'))
  t.equal(flowroute.received.length, 1, 'a 4xx is not retried')
  flowroute.answer = reply(422, { errors: [{ status: 422, detail: 'to: invalid number' }] })
  t.match(await reasonOf(sender.send(message)), 'flowroute answered HTTP 422')
  flowroute.answer = reply(202, { data: {} })
  t.match(await reasonOf(sender.send(message)), 'flowroute accepted the request without a message id')
})

test('twilio: POST Accounts/{sid}/Messages.json, form-encoded To/From/Body, basic auth; 201 with sid', async (t) => {
  const twilio = await startFakeProvider(t, reply(201, {
    sid: 'SM1f0e8ae6ade43cb3c0ce4525424e404f', status: 'queued', to: '+15551234567', from: '+12065550101', body: 'hidden', api_version: '2010-04-01'
  }))
  const sender = createTwilioSender({ accountSid: 'AC0123456789abcdef', authToken: 'auth-token', from: '+12065550101', baseUrl: twilio.baseUrl })
  t.equal(sender.provider, 'twilio')
  await sender.send(message)
  const [request] = twilio.received
  t.equal(request?.method, 'POST')
  t.equal(request?.url, '/2010-04-01/Accounts/AC0123456789abcdef/Messages.json')
  t.equal(request?.headers.authorization, basic('AC0123456789abcdef', 'auth-token'))
  t.equal(request?.headers['content-type'], 'application/x-www-form-urlencoded')
  t.equal(request?.body, 'To=%2B15551234567&From=%2B12065550101&Body=012345%0AWelcome+to+Acme%21')
  t.same(Object.fromEntries(new URLSearchParams(request?.body)), { To: '+15551234567', From: '+12065550101', Body: message.body })
})

test('twilio: a messaging service SID (MG...) goes as MessagingServiceSid, not From', async (t) => {
  const twilio = await startFakeProvider(t, reply(201, { sid: 'SM1' }))
  const service = `MG${'0123456789abcdef'.repeat(2)}`
  await createTwilioSender({ accountSid: 'AC1', authToken: 't', from: service, baseUrl: twilio.baseUrl }).send(message)
  t.same(Object.fromEntries(new URLSearchParams(twilio.received[0]?.body)), { To: '+15551234567', MessagingServiceSid: service, Body: message.body })
})

test('twilio: a 400 with an error code fails without retry and without the message text', async (t) => {
  const twilio = await startFakeProvider(t, reply(400, { code: 21211, message: "The 'To' number +15551234567 is not a valid phone number.", status: 400 }))
  const sender = createTwilioSender({ accountSid: 'AC1', authToken: 't', from: '+12065550101', baseUrl: twilio.baseUrl })
  const error = await sender.send(message).then(() => undefined, (e: unknown) => e as SmsDeliveryError)
  t.equal(error?.reason, 'twilio answered HTTP 400 (code 21211)')
  t.notMatch(error?.message, /012345|15551234567/, 'neither the code nor the number in the error')
  t.equal(twilio.received.length, 1)
  twilio.answer = reply(201, { status: 'queued' })
  t.match(await reasonOf(sender.send(message)), 'twilio accepted the request without a message sid')
})

test('a 503 or a dropped connection is tried once more; a second failure is final', async (t) => {
  let calls = 0
  const twilio = await startFakeProvider(t, (request, response) => {
    calls++
    if (calls === 1) reply(503, 'busy', 'text/plain')(request, response)
    else reply(201, { sid: 'SM1' })(request, response)
  })
  const sender = createTwilioSender({ accountSid: 'AC1', authToken: 't', from: '+12065550101', baseUrl: twilio.baseUrl })
  await sender.send(message)
  t.equal(twilio.received.length, 2, 'retried once after 503, then accepted')

  twilio.received.length = 0
  twilio.answer = reply(500, '<html>oops</html>', 'text/html')
  t.match(await reasonOf(sender.send(message)), 'twilio answered HTTP 500')
  t.equal(twilio.received.length, 1, 'a 500 is not retried (the message may have been taken)')

  twilio.received.length = 0
  twilio.answer = reply(502, 'bad gateway', 'text/plain')
  t.match(await reasonOf(sender.send(message)), 'twilio answered HTTP 502')
  t.equal(twilio.received.length, 2, '502 twice: tried twice, then failed')

  twilio.received.length = 0
  twilio.answer = drop
  t.match(await reasonOf(sender.send(message)), /twilio failed mid-request \((ECONNRESET|UND_ERR_SOCKET)\); not retried/)
  t.equal(twilio.received.length, 1, 'a connection cut after the request went out is not retried: the SMS may be on its way')

  twilio.received.length = 0
  twilio.answer = (_request, response) => { response.writeHead(302, { location: 'http://127.0.0.1:1/elsewhere' }).end() }
  t.equal(await reasonOf(sender.send(message)), 'twilio answered HTTP 302 (redirects are not followed)')
  t.equal(twilio.received.length, 1, 'a redirect is neither followed nor retried')

  twilio.received.length = 0
  twilio.answer = (_request, response) => {
    response.writeHead(201, { 'content-type': 'application/json', 'content-length': '100' })
    response.write('{"sid":')
    setTimeout(() => response.socket?.destroy(), 20)
  }
  t.match(await reasonOf(sender.send(message)), /twilio broke off its answer/)
  t.equal(twilio.received.length, 1)
})

test('only a refused connection (nothing was written) is tried again', async (t) => {
  const realFetch = globalThis.fetch
  let calls = 0
  globalThis.fetch = async (...args: Parameters<typeof fetch>) => { calls++; return await realFetch(...args) }
  t.teardown(() => { globalThis.fetch = realFetch })
  const closed = createServer()
  await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve))
  const port = (closed.address() as AddressInfo).port
  await new Promise((resolve) => closed.close(resolve))
  const refused = createTwilioSender({ accountSid: 'AC1', authToken: 't', from: '+12065550101', baseUrl: `http://127.0.0.1:${port}`, timeoutMs: 2000 })
  t.equal(await reasonOf(refused.send(message)), 'twilio is unreachable (ECONNREFUSED)')
  t.equal(calls, 2, 'refused twice: two tries')
})

test('a provider that sends 200 headers and then stalls is cut off at the deadline, every time, under forced garbage collection', async (t) => {
  setFlagsFromString('--expose-gc')
  const gc = runInNewContext('gc') as () => void
  const collector = setInterval(gc, 50)
  t.teardown(() => { clearInterval(collector) })
  const stalled = await startFakeProvider(t, (_request, response) => {
    response.writeHead(200, { 'content-type': 'application/json' })
    response.write('{')
  })
  const timeoutMs = 300
  const sender = createWebhookSender({ url: `${stalled.baseUrl}/sms`, secret: 's', timeoutMs })
  const took: number[] = []
  const attempts = 20
  for (let attempt = 0; attempt < attempts; attempt++) {
    const started = Date.now()
    t.equal(await reasonOf(sender.send(message)), 'webhook did not answer in time')
    took.push(Date.now() - started)
  }
  t.ok(Math.max(...took) < timeoutMs + 1000, `every send ended within deadline + 1 s (slowest ${Math.max(...took)} ms)`)
  t.equal(stalled.received.length, attempts, 'a stalled body is not retried')
})

test('a provider that does not answer fails within the timeout and is not retried', async (t) => {
  const slow = await startFakeProvider(t, hang)
  const sender = createFlowrouteSender({ accessKey: 'a', secretKey: 'b', number: '12065550101', baseUrl: slow.baseUrl, timeoutMs: 200 })
  t.match(await reasonOf(sender.send(message)), 'flowroute did not answer in time')
  t.equal(slow.received.length, 1)
  const unreachable = createTwilioSender({ accountSid: 'AC1', authToken: 't', from: '+1', baseUrl: 'http://127.0.0.1:1', timeoutMs: 1000 })
  t.match(await reasonOf(unreachable.send(message)), /twilio is unreachable/)
  t.match(await reasonOf(postToProvider('x', { url: `${slow.baseUrl}/`, headers: {}, body: '', accepted: () => true, timeoutMs: 100 })), 'x did not answer in time')
})

test('webhook: POST JSON {to, body, auth_id} signed with sha256=HMAC(raw body); any 2xx is delivery', async (t) => {
  const hook = await startFakeProvider(t, reply(204, ''))
  const sender = createWebhookSender({ url: `${hook.baseUrl}/sms?tenant=1`, secret: 'webhook-secret' })
  t.equal(sender.provider, 'webhook')
  await sender.send(message)
  const [request] = hook.received
  t.equal(request?.method, 'POST')
  t.equal(request?.url, '/sms?tenant=1')
  t.equal(request?.headers['content-type'], 'application/json')
  const expected = `sha256=${createHmac('sha256', 'webhook-secret').update(request?.body ?? '').digest('hex')}`
  t.equal(request?.headers['x-tokenmint-signature'], expected)
  t.equal(webhookSignature('webhook-secret', request?.body ?? ''), expected)
  t.same(JSON.parse(request?.body ?? ''), { to: '+15551234567', body: message.body, auth_id: 'signup-42' })
  hook.answer = reply(410, { error: 'gone' })
  t.match(await reasonOf(sender.send(message)), 'webhook answered HTTP 410')
})

test('console: prints the SMS through its own write, not the logger', async (t) => {
  const lines: string[] = []
  const sender = createConsoleSender((text) => { lines.push(text) })
  await sender.send(message)
  t.equal(sender.provider, 'console')
  t.match(lines.join(''), /to \+15551234567 \(auth_id "signup-42"\):\n012345\nWelcome to Acme!/)
  t.equal(createConsoleSender().provider, 'console', 'writes to stdout by default')
})

test('createSmsSender builds the configured provider and refuses console in production', async (t) => {
  t.equal(createSmsSender(testConfig()).provider, 'console')
  t.equal(createSmsSender(testConfig({ SMS_PROVIDER: 'webhook', SMS_WEBHOOK_URL: 'http://127.0.0.1:9/x', SMS_WEBHOOK_SECRET: 'w'.repeat(32) })).provider, 'webhook')
  t.equal(createSmsSender(testConfig({ SMS_PROVIDER: 'flowroute', FLOWROUTE_ACCESS_KEY: 'a', FLOWROUTE_SECRET_KEY: 'b', FLOWROUTE_NUMBER: '12065550101' })).provider, 'flowroute')
  t.equal(createSmsSender(testConfig({ SMS_PROVIDER: 'twilio', TWILIO_ACCOUNT_SID: 'AC0123456789abcdef0123456789abcdef', TWILIO_AUTH_TOKEN: 't', TWILIO_FROM: '+12065550101' })).provider, 'twilio')
  const config = testConfig()
  t.throws(() => createSmsSender({ ...config, nodeEnv: 'production' }), /refused in production/)
  t.throws(() => createSmsSender({ ...config, sms: { ...config.sms, provider: 'twilio' } }), /setting is missing/)
})
