import { createHmac, timingSafeEqual } from 'node:crypto'
import { test } from 'tap'
import type { Test } from 'tap'
import type { LightMyRequestResponse } from 'fastify'
import type { Env } from '../../lib/config.js'
import { API_KEY, assertMatchesOpenApi, assertProblem, buildTestApp, decodeJwt, json, OTHER_API_KEY } from '../helper.js'
import { reply, startFakeProvider } from '../fake-provider.js'
import type { FakeProvider } from '../fake-provider.js'

const SECRET = 'webhook-secret-for-tests-0123456789abcdef'
const headers = { 'x-api-key': API_KEY }
const PHONE = '+15551234567'

interface Harness {
  app: Awaited<ReturnType<typeof buildTestApp>>
  hook: FakeProvider
  /** Codes delivered to the webhook (after checking each signature), oldest first. */
  codes: string[]
  start: (authId: string, recipient?: unknown) => Promise<LightMyRequestResponse>
  check: (authId: unknown, code: unknown) => Promise<LightMyRequestResponse>
  status: (authId: string) => Promise<Record<string, unknown>>
}

/** The real app with the webhook provider pointing at a local receiver that verifies signatures. */
async function harness (t: Test, env: Env = {}): Promise<Harness> {
  const codes: string[] = []
  const hook = await startFakeProvider(t, (request, response) => {
    const expected = Buffer.from(`sha256=${createHmac('sha256', SECRET).update(request.body).digest('hex')}`)
    const given = Buffer.from(String(request.headers['x-tokenmint-signature']))
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
      t.fail('webhook signature does not verify')
      reply(401, { error: 'bad signature' })(request, response)
      return
    }
    const message = JSON.parse(request.body) as { to: string, body: string, auth_id: string }
    const code = /^([0-9]+)\n/.exec(message.body)?.[1]
    if (code !== undefined) codes.push(code)
    reply(200, { ok: true })(request, response)
  })
  const app = await buildTestApp(t, {
    env: {
      SMS_PROVIDER: 'webhook',
      SMS_WEBHOOK_URL: `${hook.baseUrl}/sms`,
      SMS_WEBHOOK_SECRET: SECRET,
      RATE_LIMIT_MAX: '100000',
      SMS_CHECK_RATE_LIMIT: '100000 per minute',
      ...env
    }
  })
  return {
    app,
    hook,
    codes,
    start: (authId, recipient = PHONE) => app.inject({ method: 'POST', url: '/v1/verifications', headers, payload: { auth_id: authId, recipient } }),
    check: (authId, code) => app.inject({ method: 'POST', url: '/v1/verifications/check', headers, payload: { auth_id: authId, code } }),
    status: async (authId) => json(await app.inject({ url: `/v1/verifications/${encodeURIComponent(authId)}`, headers }))
  }
}

function wrongCode (code: string): string {
  return code.split('').map((d) => String((Number(d) + 1) % 10)).join('')
}

test('full flow over HTTP: create → signed SMS to the webhook → right code → 200 with a verified-phone token; the same code again is rejected', async (t) => {
  const { app, hook, codes, start, check } = await harness(t)
  const created = await start('signup-42', 15551234567)
  t.equal(created.statusCode, 201)
  assertMatchesOpenApi(t, created, 'POST', '/v1/verifications')
  const body = json(created)
  t.match(body, { auth_id: 'signup-42', status: 'pending', recipient: '+1******4567', attempts_left: 3, sends_left: 4 })
  const expiresIn = new Date(String(body.expires_at)).getTime() - Date.now()
  t.ok(expiresIn > 590_000 && expiresIn <= 600_000, 'expires after CODE_EXPIRATION (600 s)')

  t.equal(hook.received.length, 1, 'one SMS')
  const sms = JSON.parse(hook.received[0]?.body ?? '{}') as Record<string, unknown>
  t.same(Object.keys(sms).sort(), ['auth_id', 'body', 'to'])
  t.equal(sms.to, PHONE)
  t.equal(sms.auth_id, 'signup-42')
  const code = codes[0] ?? ''
  t.match(code, /^[0-9]{6}$/)
  t.equal(sms.body, `${code}\nWelcome to Your Organization Name! Use this one-time code to complete your signup.`)
  t.notOk(created.body.includes(code), 'the code is not in the response')

  const stored = await app.store.verifications.find('signup-42', new Date())
  t.ok(stored)
  t.notOk(JSON.stringify(stored).includes(code), 'the code is not in the store')
  t.match(stored?.code_hash, /^[0-9a-f]{64}$/)

  const approved = await check('signup-42', code)
  t.equal(approved.statusCode, 200)
  assertMatchesOpenApi(t, approved, 'POST', '/v1/verifications/check')
  const result = json(approved)
  t.match(result, { authenticated: true, auth_id: 'signup-42', status: 'approved', message: 'Success: Authorization code verified.' })
  const { header, payload } = decodeJwt(String(result.token))
  t.equal(header.typ, 'at+jwt')
  t.match(payload, { sub: `phone:${PHONE}`, phn: PHONE, amr: ['sms'], auth_id: 'signup-42', iss: 'tokenmint', aud: 'tokenmint' })
  const me = await app.inject({ url: '/v1/me', headers: { authorization: `Bearer ${String(result.token)}` } })
  t.equal(me.statusCode, 200, 'the verified-phone token is an access token of this service')
  t.same(json(me).amr, ['sms'])

  const again = await check('signup-42', code)
  const problem = assertProblem(t, again, 400, 'invalid_auth_code')
  assertMatchesOpenApi(t, again, 'POST', '/v1/verifications/check')
  t.match(problem, { reason: 'InvalidAuthCode', verification_status: 'approved', message: String })
  t.notOk(again.body.includes(code))

  const view = await app.inject({ url: '/v1/verifications/signup-42', headers })
  t.equal(view.statusCode, 200)
  assertMatchesOpenApi(t, view, 'GET', '/v1/verifications/{auth_id}')
  t.match(json(view), { auth_id: 'signup-42', status: 'approved', recipient: '+1******4567', attempts_left: 3, ended_at: String })

  const fresh = await start('signup-42')
  t.equal(fresh.statusCode, 201, 'an approved auth_id can start a new verification')
  t.equal(json(fresh).attempts_left, 3)
})

test('Flowroute GET form checks codes the same way', async (t) => {
  const { app, codes, start } = await harness(t, { VERIFIED_TOKEN: 'false' })
  await start('flow-1')
  const wrong = await app.inject({ url: `/v1/verifications?auth_id=flow-1&code=${wrongCode(codes[0] ?? '')}`, headers })
  assertProblem(t, wrong, 400, 'invalid_auth_code')
  assertMatchesOpenApi(t, wrong, 'GET', '/v1/verifications')
  t.match(json(wrong), { reason: 'InvalidAuthCode', attempts_left: 2, verification_status: 'pending', message: 'Incorrect code. 2 attempts left.' })
  const right = await app.inject({ url: `/v1/verifications?auth_id=flow-1&code=${codes[0] ?? ''}`, headers })
  t.equal(right.statusCode, 200)
  assertMatchesOpenApi(t, right, 'GET', '/v1/verifications')
  t.same(json(right), { authenticated: true, auth_id: 'flow-1', status: 'approved', message: 'Success: Authorization code verified.' }, 'no token with VERIFIED_TOKEN=false')
  const unknown = await app.inject({ url: '/v1/verifications?auth_id=nobody&code=123456', headers })
  t.match(assertProblem(t, unknown, 400, 'unknown_auth_id'), { reason: 'UnknownAuthId' })
})

test('RETRIES_ALLOWED wrong codes end the verification; a resend in between restores nothing; then even the right code fails', async (t) => {
  const { codes, start, check, status } = await harness(t, { SMS_RESEND_COOLDOWN: '0' })
  await start('retries')
  t.match(json(await check('retries', wrongCode(codes[0] ?? ''))), { attempts_left: 2, verification_status: 'pending' })

  const resent = await start('retries')
  t.equal(resent.statusCode, 201)
  t.match(json(resent), { attempts_left: 2, sends_left: 3 }, 'the resend keeps the spent attempt')
  t.equal(codes.length, 2)
  const latest = codes[1] ?? ''

  t.match(json(await check('retries', wrongCode(latest))), { attempts_left: 1, verification_status: 'pending', message: 'Incorrect code. 1 attempt left.' })
  const last = await check('retries', wrongCode(latest))
  t.match(assertProblem(t, last, 400, 'invalid_auth_code'), { reason: 'InvalidAuthCode', attempts_left: 0, verification_status: 'max_attempts_reached' })

  const right = await check('retries', latest)
  t.match(assertProblem(t, right, 400, 'invalid_auth_code'), { reason: 'InvalidAuthCode', attempts_left: 0, verification_status: 'max_attempts_reached' })
  t.match(await status('retries'), { status: 'max_attempts_reached', attempts_left: 0 })

  const another = await start('retries')
  assertProblem(t, another, 429, 'max_attempts_reached')
  t.ok(Number(another.headers['retry-after']) > 500, 'Retry-After until the code would have expired')
  t.equal(codes.length, 2, 'no SMS for a spent verification')
})

test('with one attempt left, 50 concurrent wrong checks spend at most that attempt; the right code is then judged correctly', async (t) => {
  const { codes, start, check, status } = await harness(t)
  await start('race-wrong')
  const code = codes[0] ?? ''
  await check('race-wrong', wrongCode(code))
  await check('race-wrong', wrongCode(code))
  t.equal((await status('race-wrong')).attempts_left, 1)

  const answers = await Promise.all(Array.from({ length: 50 }, () => check('race-wrong', wrongCode(code))))
  t.ok(answers.every((a) => a.statusCode === 400 && json(a).code === 'invalid_auth_code'), 'all 50 are rejected')
  t.equal(answers.filter((a) => json(a).message === 'Incorrect code. No attempts are left: this verification has ended.').length, 1,
    'exactly one of them spent the last attempt')
  t.match(await status('race-wrong'), { attempts_left: 0, status: 'max_attempts_reached' })
  const right = await check('race-wrong', code)
  t.match(assertProblem(t, right, 400, 'invalid_auth_code'), { verification_status: 'max_attempts_reached', attempts_left: 0 })
})

test('a right code sent together with wrong ones is approved when it got an attempt', async (t) => {
  const { codes, start, check } = await harness(t, { RETRIES_ALLOWED: '10' })
  await start('race-mixed')
  const code = codes[0] ?? ''
  const answers = await Promise.all([
    ...Array.from({ length: 5 }, () => check('race-mixed', wrongCode(code))),
    check('race-mixed', code),
    ...Array.from({ length: 4 }, () => check('race-mixed', wrongCode(code)))
  ])
  t.equal(answers[5]?.statusCode, 200, 'ten attempts for ten checks: the right one wins whatever the order')
  t.equal(answers.filter((a) => a.statusCode === 200).length, 1)
})

test('20 concurrent right checks: exactly one 200', async (t) => {
  const { codes, start, check, status } = await harness(t)
  await start('race-right')
  const answers = await Promise.all(Array.from({ length: 20 }, () => check('race-right', codes[0])))
  t.equal(answers.filter((a) => a.statusCode === 200).length, 1, 'one approval')
  const rejected = answers.filter((a) => a.statusCode !== 200)
  t.equal(rejected.length, 19)
  t.ok(rejected.every((a) => a.statusCode === 400 && json(a).reason === 'InvalidAuthCode'), 'the others are InvalidAuthCode')
  t.equal((await status('race-right')).status, 'approved')
})

test('an expired code is ExpiredAuthCode; the auth_id can then start again', async (t) => {
  const { codes, start, check, status } = await harness(t, { CODE_EXPIRATION: '1' })
  await start('expiring')
  await new Promise((resolve) => setTimeout(resolve, 1_100))
  const expired = await check('expiring', codes[0])
  const problem = assertProblem(t, expired, 400, 'expired_auth_code')
  assertMatchesOpenApi(t, expired, 'POST', '/v1/verifications/check')
  t.match(problem, { reason: 'ExpiredAuthCode', verification_status: 'expired', attempts_left: 0 }, 'as Flowroute answers: no attempts left')
  t.equal((await status('expiring')).status, 'expired')
  const again = await start('expiring')
  t.equal(again.statusCode, 201, 'a new verification replaces the expired one')
  t.equal((await check('expiring', codes[1])).statusCode, 200)
})

test('unknown auth_id: 400 UnknownAuthId on check, 404 on status and cancel', async (t) => {
  const { app, check } = await harness(t)
  const unknown = await check('nobody', '123456')
  t.match(assertProblem(t, unknown, 400, 'unknown_auth_id'), { reason: 'UnknownAuthId', message: 'No verification exists for this auth_id.' })
  assertMatchesOpenApi(t, unknown, 'POST', '/v1/verifications/check')
  const view = await app.inject({ url: '/v1/verifications/nobody', headers })
  assertProblem(t, view, 404, 'unknown_auth_id')
  assertMatchesOpenApi(t, view, 'GET', '/v1/verifications/{auth_id}')
  const cancel = await app.inject({ method: 'DELETE', url: '/v1/verifications/nobody', headers })
  assertProblem(t, cancel, 404, 'unknown_auth_id')
  assertMatchesOpenApi(t, cancel, 'DELETE', '/v1/verifications/{auth_id}')
})

test('malformed codes and check bodies are InvalidAPIUsage 400 and spend no attempt', async (t) => {
  const { app, codes, start, status } = await harness(t)
  await start('hostile')
  const code = codes[0] ?? ''
  const bodies: unknown[] = [
    { auth_id: 'hostile', code: Number(code) },
    { auth_id: 'hostile', code: [code] },
    { auth_id: 'hostile', code: { code } },
    { auth_id: 'hostile', code: { $gt: '' } },
    { auth_id: 'hostile', code: code.replace(/[0-9]/g, (d) => String.fromCharCode(0xff10 + Number(d))) },
    { auth_id: 'hostile', code: code.slice(0, 5) },
    { auth_id: 'hostile', code: `${code}0` },
    { auth_id: 'hostile', code: null },
    { auth_id: 'hostile' },
    { code },
    { auth_id: { $ne: null }, code },
    { auth_id: 'hostile', code, extra: 1 },
    []
  ]
  for (const payload of bodies) {
    const answer = await app.inject({ method: 'POST', url: '/v1/verifications/check', headers, payload: payload as object })
    const problem = assertProblem(t, answer, 400, 'invalid_api_usage')
    t.equal(problem.reason, 'InvalidAPIUsage', `InvalidAPIUsage for ${JSON.stringify(payload)}`)
    assertMatchesOpenApi(t, answer, 'POST', '/v1/verifications/check')
  }
  const empty = await app.inject({ method: 'POST', url: '/v1/verifications/check', headers })
  assertProblem(t, empty, 400, 'invalid_api_usage')
  for (const query of [`code=${code}`, 'auth_id=hostile', 'auth_id=hostile&code=%EF%BC%91%EF%BC%92%EF%BC%93%EF%BC%94%EF%BC%95%EF%BC%96',
    `auth_id=hostile&code=${code}&code=${code}`, 'auth_id=hostile&code=12345', `auth_id=hostile&code=${code}&x=1`, 'auth_id=hostile&code[$gt]=']) {
    const answer = await app.inject({ url: `/v1/verifications?${query}`, headers })
    t.equal(assertProblem(t, answer, 400, 'invalid_api_usage').reason, 'InvalidAPIUsage', `InvalidAPIUsage for ?${query}`)
  }
  t.equal((await status('hostile')).attempts_left, 3, 'no attempt was spent')
})

test('the provider fails: 502 sms_delivery_failed and nothing stays pending; a failed resend keeps the earlier code', async (t) => {
  const { app, hook, codes, start, check } = await harness(t, { SMS_RESEND_COOLDOWN: '0' })
  const working = hook.answer
  hook.answer = reply(500, '<html>Internal Server Error</html>', 'text/html')
  const failed = await start('flaky')
  assertProblem(t, failed, 502, 'sms_delivery_failed')
  assertMatchesOpenApi(t, failed, 'POST', '/v1/verifications')
  t.equal(await app.store.verifications.find('flaky', new Date()), null, 'no verification left behind')
  assertProblem(t, await app.inject({ url: '/v1/verifications/flaky', headers }), 404, 'unknown_auth_id')

  hook.answer = working
  t.equal((await start('flaky')).statusCode, 201, 'a retry after the outage starts cleanly')
  const first = codes.at(-1) ?? ''
  hook.answer = reply(400, { error: 'rejected' })
  assertProblem(t, await start('flaky'), 502, 'sms_delivery_failed')
  const view = json(await app.inject({ url: '/v1/verifications/flaky', headers }))
  t.match(view, { status: 'pending', sends_left: 4 }, 'the failed resend cost no send')
  hook.answer = working
  t.equal((await check('flaky', first)).statusCode, 200, 'the code already delivered still works')
})

test('resend rules: cooldown, max sends, recipient pinned per auth_id', async (t) => {
  const { codes, start } = await harness(t, { SMS_MAX_SENDS: '2', SMS_RESEND_COOLDOWN: '30' })
  await start('rules')
  const soon = await start('rules')
  assertProblem(t, soon, 429, 'resend_too_soon')
  assertMatchesOpenApi(t, soon, 'POST', '/v1/verifications')
  t.ok(Number(soon.headers['retry-after']) >= 29 && Number(soon.headers['retry-after']) <= 30, 'Retry-After is the cooldown left')
  const other = await start('rules', '+15557654321')
  assertProblem(t, other, 409, 'auth_id_in_use')
  t.equal(codes.length, 1, 'refused requests send nothing')

  const { start: startQuick } = await harness(t, { SMS_MAX_SENDS: '2', SMS_RESEND_COOLDOWN: '0' })
  t.equal((await startQuick('sends')).statusCode, 201)
  t.match(json(await startQuick('sends')), { sends_left: 0 })
  const third = await startQuick('sends')
  assertProblem(t, third, 429, 'too_many_sends')
  t.ok(Number(third.headers['retry-after']) > 0)
})

test('SMS_ALLOWED_COUNTRIES and the per-recipient hourly budget protect against SMS pumping', async (t) => {
  const { app, hook, start } = await harness(t, { SMS_ALLOWED_COUNTRIES: 'US,CA', SMS_RECIPIENT_HOURLY_LIMIT: '2' })
  const uk = await start('uk', '+447700900123')
  assertProblem(t, uk, 403, 'destination_not_allowed')
  assertMatchesOpenApi(t, uk, 'POST', '/v1/verifications')
  t.equal(hook.received.length, 0)

  t.equal((await start('pump-1')).statusCode, 201)
  t.equal((await start('pump-2')).statusCode, 201)
  const third = await start('pump-3')
  assertProblem(t, third, 429, 'recipient_limit_reached')
  t.ok(Number(third.headers['retry-after']) > 0 && Number(third.headers['retry-after']) <= 3600)
  t.equal(hook.received.length, 2, 'the budget stops the third SMS')
  t.equal(await app.store.verifications.find('pump-3', new Date()), null, 'nothing pending for the refused one')
  t.equal((await start('other', '+15557654321')).statusCode, 201, 'the budget is per recipient')
})

test('sends the provider refused do not spend the recipient budget', async (t) => {
  const { hook, start } = await harness(t, { SMS_RECIPIENT_HOURLY_LIMIT: '3' })
  const accept = hook.answer
  hook.answer = reply(400, { error: 'refused' })
  for (let i = 1; i <= 3; i++) assertProblem(t, await start(`refused-${i}`), 502, 'sms_delivery_failed')
  hook.answer = accept
  for (let i = 1; i <= 3; i++) t.equal((await start(`accepted-${i}`)).statusCode, 201, `accepted send ${i} of 3 passes after 3 refused ones`)
  assertProblem(t, await start('accepted-4'), 429, 'recipient_limit_reached')
  t.equal(hook.received.length, 6, 'three refused and three accepted; the fourth accepted send never reached the provider')
})

test('recipients: E.164, 11-digit string or number; anything else is invalid_phone_number', async (t) => {
  const { app, start } = await harness(t)
  t.equal((await start('phone-1', '15551234567')).statusCode, 201)
  for (const recipient of ['5551234567', 'abc', '+1555123456789012', 123, { $gt: '' }, ['+15551234567'], true, '１５５５１２３４５６７']) {
    const answer = await start(`bad-${JSON.stringify(recipient)}`, recipient)
    assertProblem(t, answer, 400, 'invalid_phone_number')
  }
  for (const payload of [{ recipient: PHONE }, { auth_id: '', recipient: PHONE }, { auth_id: 'x'.repeat(121), recipient: PHONE }, { auth_id: 'a', recipient: PHONE, code: '1' }]) {
    assertProblem(t, await app.inject({ method: 'POST', url: '/v1/verifications', headers, payload }), 400, 'invalid_request')
  }
  assertProblem(t, await app.inject({ method: 'POST', url: '/v1/verifications', payload: { auth_id: 'a', recipient: PHONE } }), 401, 'missing_token')
  assertProblem(t, await app.inject({ method: 'POST', url: '/v1/verifications/check', payload: { auth_id: 'a', code: '123456' } }), 401, 'missing_token')
  assertProblem(t, await app.inject({ url: '/v1/verifications/a', headers: { authorization: 'Bearer x' } }), 401, 'invalid_api_key')
})

test('a Bearer token may start and check verifications', async (t) => {
  const { app, codes } = await harness(t)
  const minted = json(await app.inject({ method: 'POST', url: '/gen-jwt', headers, payload: {} }))
  const bearer = { authorization: `Bearer ${String(minted.token)}` }
  const created = await app.inject({ method: 'POST', url: '/v1/verifications', headers: bearer, payload: { auth_id: 'bearer', recipient: PHONE } })
  t.equal(created.statusCode, 201)
  const checked = await app.inject({ method: 'POST', url: '/v1/verifications/check', headers: bearer, payload: { auth_id: 'bearer', code: codes[0] } })
  t.equal(checked.statusCode, 200)
})

test('DELETE cancels a pending verification; its code stops working; an ended one stays as it is', async (t) => {
  const { app, codes, start, check, status } = await harness(t)
  await start('cancel-me')
  const canceled = await app.inject({ method: 'DELETE', url: '/v1/verifications/cancel-me', headers })
  t.equal(canceled.statusCode, 204)
  t.equal(canceled.body, '')
  assertMatchesOpenApi(t, canceled, 'DELETE', '/v1/verifications/{auth_id}')
  t.match(await status('cancel-me'), { status: 'canceled', ended_at: String })
  t.match(assertProblem(t, await check('cancel-me', codes[0]), 400, 'invalid_auth_code'), { verification_status: 'canceled' })
  t.equal((await app.inject({ method: 'DELETE', url: '/v1/verifications/cancel-me', headers })).statusCode, 204, 'idempotent')
  t.equal((await status('cancel-me')).status, 'canceled')
})

test('the two check forms share one budget per caller: alternating between them gains nothing', async (t) => {
  const { app, check } = await harness(t, { SMS_CHECK_RATE_LIMIT: '3 per minute' })
  const statuses: number[] = []
  for (let i = 0; i < 6; i++) {
    const response = i % 2 === 0
      ? await check(`nobody-${i}`, '123456')
      : await app.inject({ url: `/v1/verifications?auth_id=nobody-${i}&code=123456`, headers })
    statuses.push(response.statusCode)
    if (response.statusCode === 429) {
      assertProblem(t, response, 429, 'rate_limited')
      t.match(json(response), { limit: { budget: 'sms_check', max: 3, window_seconds: 60 } })
      t.ok(Number(response.headers['retry-after']) > 0)
    }
  }
  t.same(statuses, [400, 400, 400, 429, 429, 429], 'three checks in all, whichever form')
  const other = await app.inject({ method: 'POST', url: '/v1/verifications/check', headers: { 'x-api-key': OTHER_API_KEY }, payload: { auth_id: 'someone', code: '123456' } })
  t.equal(other.statusCode, 400, 'another API client has its own budget')
})

test('one auth_id has one check budget across callers', async (t) => {
  const { app } = await harness(t, { SMS_CHECK_RATE_LIMIT: '3 per minute' })
  const statuses: number[] = []
  for (const key of [API_KEY, OTHER_API_KEY, API_KEY, OTHER_API_KEY]) {
    statuses.push((await app.inject({ method: 'POST', url: '/v1/verifications/check', headers: { 'x-api-key': key }, payload: { auth_id: 'shared', code: '123456' } })).statusCode)
  }
  t.same(statuses, [400, 400, 400, 429])
})

test('Flowroute\'s client reads message and reason from every error of the verification routes', async (t) => {
  const { app, start } = await harness(t, { SMS_RESEND_COOLDOWN: '30' })
  const cases: Array<[string, LightMyRequestResponse, number, string | RegExp]> = [
    ['no API key', await app.inject({ method: 'POST', url: '/v1/verifications', payload: { auth_id: 'f1', recipient: PHONE } }), 401, /^[A-Z][A-Za-z]+$/],
    ['bad number', await start('f2', '12'), 400, 'InvalidAPIUsage'],
    ['unknown auth_id', await app.inject({ url: '/v1/verifications?auth_id=nobody&code=123456', headers }), 400, 'UnknownAuthId']
  ]
  await start('f3')
  cases.push(['resend too soon', await start('f3'), 429, 'ResendTooSoon'])
  for (const [name, response, status, reason] of cases) {
    t.equal(response.statusCode, status, name)
    const body = json(response)
    t.match(body.reason, reason, `${name}: reason`)
    t.type(body.message, 'string', `${name}: message`)
    t.equal(body.message, body.detail, `${name}: the message is the problem's detail`)
  }
  t.equal(json(cases[2]?.[1] as LightMyRequestResponse).attempts_left, 0, 'UnknownAuthId says attempts_left 0, as Flowroute does')
})
