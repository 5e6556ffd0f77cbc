import { createHmac } from 'node:crypto'
import { test } from 'tap'
import { buildTestApp, decodeJwt } from '../helper.js'
import { reply, startFakeProvider } from '../fake-provider.js'

const SECRET = 'webhook-secret-for-tests-0123456789abcdef'

test('verifications: codes go out through the configured provider, and a check issues a verified-phone token through the token service', async (t) => {
  const codes: string[] = []
  const hook = await startFakeProvider(t, (request, response) => {
    t.equal(request.headers['x-tokenmint-signature'], `sha256=${createHmac('sha256', SECRET).update(request.body).digest('hex')}`, 'signed with SMS_WEBHOOK_SECRET')
    codes.push(String(/^(\d+)\n/.exec((JSON.parse(request.body) as { body: string }).body)?.[1]))
    reply(200, { ok: true })(request, response)
  })
  const app = await buildTestApp(t, { env: { SMS_PROVIDER: 'webhook', SMS_WEBHOOK_URL: `${hook.baseUrl}/sms`, SMS_WEBHOOK_SECRET: SECRET } })
  const started = await app.verifications.start('signup-1', '15551234567')
  t.match(started, { auth_id: 'signup-1', status: 'pending', recipient: '+1******4567', attempts_left: 3 }, 'the recipient masked')
  t.equal(codes.length, 1, 'one SMS')
  t.match(await app.store.verifications.find('signup-1', new Date()), { auth_id: 'signup-1' }, 'kept in the app\'s store')

  const approved = await app.verifications.check('signup-1', codes[0])
  t.match(approved, { authenticated: true, status: 'approved', token: String })
  const { payload } = decodeJwt(String(approved.token))
  t.match(payload, { sub: 'phone:+15551234567', amr: ['sms'], phn: '+15551234567', auth_id: 'signup-1' })
  t.match(await app.tokens.verify(String(approved.token)), { sub: 'phone:+15551234567' }, 'the token service accepts it')
  const me = await app.inject({ url: '/v1/me', headers: { authorization: `Bearer ${String(approved.token)}` } })
  t.equal(me.statusCode, 200, 'and so do the protected routes')
})

test('verifications: a failed delivery is logged once as a warning with the provider and a plain reason, and leaves nothing pending', async (t) => {
  const hook = await startFakeProvider(t, reply(500, { error: 'down' }))
  const app = await buildTestApp(t, { env: { SMS_PROVIDER: 'webhook', SMS_WEBHOOK_URL: `${hook.baseUrl}/sms`, SMS_WEBHOOK_SECRET: SECRET, LOG_LEVEL: 'warn' } })
  const warnings: Array<Record<string, unknown>> = []
  const warn = app.log.warn.bind(app.log)
  app.log.warn = ((fields: Record<string, unknown>, message: string) => { warnings.push({ ...fields, message }); warn(fields, message) }) as typeof app.log.warn
  const failed: unknown = await app.verifications.start('signup-2', '+15551234567').then(() => undefined, (error: unknown) => error)
  t.match(failed, { statusCode: 502, code: String }, 'the caller gets a 502 problem')
  t.match(warnings, [{ provider: 'webhook', reason: String, message: 'SMS delivery failed' }])
  t.notMatch(JSON.stringify(warnings), new RegExp(`${SECRET}|127\\.0\\.0\\.1|Error`), 'no secret, host or error class')
  t.equal(await app.verifications.status('signup-2'), undefined, 'nothing pending')
})
