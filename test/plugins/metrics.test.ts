import { test } from 'tap'
import { createMemoryStore } from '../../plugins/store/memory.js'
import { StoreUnavailableError } from '../../lib/store.js'
import type { Store } from '../../lib/store.js'
import { API_KEY, assertProblem, buildTestApp, json, testConfig } from '../helper.js'
import { reply, startFakeProvider } from '../fake-provider.js'

const TOKEN = 'metrics-token-0123456789abcdef-0123456789'
const SECRET = 'webhook-secret-for-tests-0123456789abcdef'
const headers = { 'x-api-key': API_KEY }

/** The value of one sample line, e.g. tokenmint_tokens_issued_total{kind="access"}. */
function sample (text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `))
  return line === undefined ? undefined : Number(line.slice(series.length + 1))
}

test('/metrics shows every family after each route is exercised, with route patterns and no identifiers', async (t) => {
  const codes: string[] = []
  let failSends = false
  const hook = await startFakeProvider(t, (request, response) => {
    if (failSends) return reply(500, { error: 'down' })(request, response)
    codes.push(String(/^(\d+)\n/.exec((JSON.parse(request.body) as { body: string }).body)?.[1]))
    reply(200, { ok: true })(request, response)
  })
  const app = await buildTestApp(t, {
    env: { METRICS_TOKEN: TOKEN, SMS_PROVIDER: 'webhook', SMS_WEBHOOK_URL: `${hook.baseUrl}/sms`, SMS_WEBHOOK_SECRET: SECRET, SMS_CHECK_RATE_LIMIT: '3 per minute', RATE_LIMIT_MAX: '40' }
  })
  const minted = json(await app.inject({ method: 'POST', url: '/gen-jwt', headers, payload: { instance_id: 'device-1' } }))
  await app.inject({ url: '/v1/me', headers: { authorization: `Bearer ${String(minted.token)}`, 'x-instance-id': 'device-1' } })
  await app.inject({ url: '/v1/token/15551234567/order-1', headers })
  await app.inject({ url: '/v1/token/15551234567/order-2', headers }) // over APPVERIFY_RATE_LIMIT (1 per second)
  await app.inject({ method: 'POST', url: '/v1/verifications', headers, payload: { auth_id: 'a1', recipient: '+15551234567' } })
  await app.inject({ method: 'POST', url: '/v1/verifications/check', headers, payload: { auth_id: 'a1', code: codes[0] === '000000' ? '111111' : '000000' } })
  await app.inject({ method: 'POST', url: '/v1/verifications/check', headers, payload: { auth_id: 'a1', code: codes[0] } })
  await app.inject({ method: 'POST', url: '/v1/verifications/check', headers, payload: { auth_id: 'a1', code: codes[0] } }) // already approved: no new outcome
  await app.inject({ method: 'POST', url: '/v1/verifications/check', headers, payload: { auth_id: 'a1', code: codes[0] } }) // the fourth check: over 3 per minute
  await app.inject({ method: 'POST', url: '/v1/verifications', headers, payload: { auth_id: 'a2', recipient: '+15551234568' } })
  await app.inject({ method: 'DELETE', url: '/v1/verifications/a2', headers })
  failSends = true
  await app.inject({ method: 'POST', url: '/v1/verifications', headers, payload: { auth_id: 'a3', recipient: '+15551234569' } })
  await app.inject({ url: '/no/such/route' })

  t.equal((await app.inject({ url: '/metrics' })).statusCode, 401, 'no token, no metrics')
  assertProblem(t, await app.inject({ url: '/metrics', headers: { authorization: 'Bearer wrong' } }), 401, 'invalid_metrics_token')
  const response = await app.inject({ url: '/metrics', headers: { authorization: `Bearer ${TOKEN}` } })
  t.equal(response.statusCode, 200)
  t.match(response.headers['content-type'], /^text\/plain; version=0\.0\.4/)
  const text = response.body
  t.equal(sample(text, 'tokenmint_tokens_issued_total{kind="access"}'), 1)
  t.equal(sample(text, 'tokenmint_tokens_issued_total{kind="app_verify"}'), 1)
  t.equal(sample(text, 'tokenmint_tokens_issued_total{kind="verified_phone"}'), 1)
  t.equal(sample(text, 'tokenmint_verifications_total{outcome="started"}'), 2)
  t.equal(sample(text, 'tokenmint_verifications_total{outcome="wrong_code"}'), 1)
  t.equal(sample(text, 'tokenmint_verifications_total{outcome="approved"}'), 1)
  t.equal(sample(text, 'tokenmint_verifications_total{outcome="canceled"}'), 1)
  t.equal(sample(text, 'tokenmint_sms_sends_total{provider="webhook",result="accepted"}'), 2)
  t.equal(sample(text, 'tokenmint_sms_sends_total{provider="webhook",result="failed"}'), 1)
  t.equal(sample(text, 'tokenmint_rate_limited_total{budget="appverify"}'), 1)
  t.equal(sample(text, 'tokenmint_rate_limited_total{budget="sms_check"}'), 1)
  t.equal(sample(text, 'tokenmint_dependency_errors_total{dependency="store"}'), 0, 'the series exists before the first error')
  t.ok((sample(text, 'tokenmint_http_request_duration_seconds_count{route="/v1/token/:phone_number/:xid",method="GET",status_code="200"}') ?? 0) >= 1, 'route patterns')
  t.ok((sample(text, 'tokenmint_http_request_duration_seconds_count{route="unmatched",method="GET",status_code="404"}') ?? 0) >= 1, 'unknown URLs share one series')
  t.match(text, /tokenmint_process_cpu_seconds_total/, 'process metrics')
  t.match(text, /tokenmint_nodejs_eventloop_lag_seconds/)
  t.notMatch(text, /555123456|order-1|a1"|device-1|test-api-key/, 'no phone number, xid, auth_id, device or key in any label')
})

test('/metrics counts store outages and login throttling', async (t) => {
  const memory = createMemoryStore()
  let down = false
  const store: Store = { ...memory, transactions: { ...memory.transactions, record: async (r) => { if (down) throw new StoreUnavailableError(); await memory.transactions.record(r) } } }
  const app = await buildTestApp(t, { store, env: { METRICS_TOKEN: TOKEN } })
  down = true
  assertProblem(t, await app.inject({ url: '/v1/token/15551234567', headers }), 503, 'store_unavailable')
  await app.inject({ method: 'POST', url: '/v1/users', headers, payload: { username: 'alice', password: 'correct horse battery' } })
  for (let i = 0; i < 7; i++) await app.inject({ method: 'POST', url: '/v1/auth/login', payload: { username: 'alice', password: 'wrong password!' } })
  const text = (await app.inject({ url: '/metrics', headers: { authorization: `Bearer ${TOKEN}` } })).body
  t.equal(sample(text, 'tokenmint_dependency_errors_total{dependency="store"}'), 1)
  t.ok((sample(text, 'tokenmint_rate_limited_total{budget="login"}') ?? 0) >= 1, 'refused logins are counted')
})

test('/metrics: open in development without a token, absent in production without one', async (t) => {
  const dev = await buildTestApp(t)
  t.equal((await dev.inject({ url: '/metrics' })).statusCode, 200)
  const production = await buildTestApp(t, { env: { NODE_ENV: 'production', MONGODB_URL: 'mongodb://127.0.0.1:1', API_KEYS: API_KEY, JWT_SECRET: Buffer.alloc(32, 1).toString('base64'), OTP_PEPPER: 'p'.repeat(32), APPVERIFY_API_KEY: Buffer.alloc(32, 2).toString('base64'), APPVERIFY_CUSTOMER_ID: 'C', SMS_PROVIDER: 'webhook', SMS_WEBHOOK_URL: 'https://sms.example.com', SMS_WEBHOOK_SECRET: SECRET } })
  assertProblem(t, await production.inject({ url: '/metrics' }), 404, 'not_found')
  t.throws(() => testConfig({ METRICS_TOKEN: 'short' }), /METRICS_TOKEN: must be at least 32 characters/)
})
