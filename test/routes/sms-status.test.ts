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

  const callback = async (params: Record<string, string>, signature = twilioSignature(AUTH_TOKEN, CALLBACK, params)): Promise<number> =>
    (await app.inject({ method: 'POST', url: '/v1/sms/status/twilio', headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': signature }, payload: new URLSearchParams(params).toString() })).statusCode
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
