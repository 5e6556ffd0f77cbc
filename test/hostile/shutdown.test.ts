import { test } from 'tap'
import { request } from 'node:http'
import { API_KEY, buildTestApp } from '../helper.js'
import { startServer } from '../process.js'
import { refreshTokenHash } from '../../plugins/sessions.js'
import { startFakeProvider } from '../fake-provider.js'
import type { FakeProvider } from '../fake-provider.js'
import type { Test } from 'tap'

interface Outcome { status: number, body: string, connection?: string }

/**
 * A webhook SMS receiver that takes a while to accept, so verification requests stay in flight:
 * each SMS is accepted 300 ms after it arrives, or, when `held`, only once release() is called
 * (then at once), so that the test decides which answers come after the close began.
 */
async function slowSmsWebhook (t: Test, held = false): Promise<FakeProvider & { env: Record<string, string>, release: () => void }> {
  const waiting: Array<() => void> = []
  let released = !held
  const provider = await startFakeProvider(t, (_request, response) => {
    const accept = (): void => { response.writeHead(200, { 'content-type': 'application/json' }).end('{}') }
    if (released) setTimeout(accept, held ? 0 : 300)
    else waiting.push(accept)
  })
  const release = (): void => {
    released = true
    for (const accept of waiting.splice(0)) accept()
  }
  return Object.assign(provider, { release, env: { SMS_PROVIDER: 'webhook', SMS_WEBHOOK_URL: `${provider.baseUrl}/sms`, SMS_WEBHOOK_SECRET: 'shutdown-webhook-secret-0123456789abcdef' } })
}

/** Resolves once `count` SMS reached the webhook: those verification requests are inside the server, mid-flight. */
async function smsInFlight (provider: FakeProvider, count: number): Promise<void> {
  while (provider.received.length < count) await new Promise((resolve) => setTimeout(resolve, 5))
}

/** 25 token requests and 25 verification requests, interleaved. */
function load (port: number, prefix: string): Array<Promise<Outcome & { kind: 'token' | 'verification', id: string }>> {
  return Array.from({ length: 50 }, async (_, i) => {
    const id = `${prefix}-${i}`
    if (i % 2 === 0) return { kind: 'token' as const, id, ...await post(port, '/gen-jwt', { 'x-api-key': API_KEY }, JSON.stringify({ instance_id: id })) }
    // Distinct recipients: the per-recipient hourly limit is not what this test is about.
    const recipient = `+1555${String(1000000 + i)}`
    return { kind: 'verification' as const, id, ...await post(port, '/v1/verifications', { 'x-api-key': API_KEY }, JSON.stringify({ auth_id: id, recipient })) }
  })
}

async function post (port: number, path: string, headers: Record<string, string>, body: string): Promise<Outcome> {
  return await new Promise((resolve) => {
    const outgoing = request({ host: '127.0.0.1', port, path, method: 'POST', headers: { ...headers, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (response) => {
      let text = ''
      response.on('data', (chunk) => { text += String(chunk) })
      response.on('end', () => { resolve({ status: response.statusCode ?? 0, body: text, ...(response.headers.connection === undefined ? {} : { connection: response.headers.connection }) }) })
      response.on('error', () => { resolve({ status: 0, body: '' }) })
    })
    // A refused or reset connection is an acceptable outcome during shutdown; a hang is not.
    outgoing.on('error', () => { resolve({ status: 0, body: '' }) })
    outgoing.setTimeout(15_000, () => { outgoing.destroy() })
    outgoing.end(body)
  })
}

test('closing under load: every 2xx has its record, nothing is stored without a response', async (t) => {
  // Held SMS: at least 10 verifications are still waiting on theirs when the close begins, however slow the machine.
  const sms = await slowSmsWebhook(t, true)
  const app = await buildTestApp(t, { env: { RATE_LIMIT_MAX: '100000', ...sms.env } })
  await app.listen({ port: 0, host: '127.0.0.1' })
  const { port } = app.server.address() as { port: number }
  const inFlight = load(port, 'load')
  // Close (what close-with-grace does on SIGTERM) while verifications wait on their SMS inside the server.
  await smsInFlight(sms, 10)
  const closing = app.close()
  // The close's first step (preClose) has run long before this timer; then the SMS are accepted.
  setTimeout(sms.release, 100)
  const outcomes = await Promise.all(inFlight)
  await closing
  t.ok(outcomes.every((o) => [0, 200, 201, 503].includes(o.status)), `only 200, 201, 503 or a refused connection (${[...new Set(outcomes.map((o) => o.status))].join(',')})`)
  const tokens = outcomes.filter((o) => o.kind === 'token')
  for (const outcome of tokens.filter((o) => o.status === 200)) {
    const refresh = String((JSON.parse(outcome.body) as { refresh_token: string }).refresh_token)
    t.match(await app.store.refreshTokens.find(refreshTokenHash(refresh), new Date()), { hash: refreshTokenHash(refresh) }, `${outcome.id} answered 200 and its refresh session is stored`)
  }
  const verifications = outcomes.filter((o) => o.kind === 'verification')
  const now = new Date()
  for (const outcome of verifications) {
    const record = await app.store.verifications.find(outcome.id, now)
    if (outcome.status === 201) t.match(record, { auth_id: outcome.id, status: 'pending' }, `${outcome.id} answered 201 and is stored`)
    else t.equal(record, null, `${outcome.id} answered ${outcome.status} and nothing is stored`)
  }
  t.equal(sms.received.length, verifications.filter((o) => o.status === 201).length, 'one SMS per 201, none without one')
  for (const outcome of outcomes.filter((o) => o.status === 503)) {
    t.equal((JSON.parse(outcome.body) as { code: string }).code, 'shutting_down', 'a request arriving while closing gets a 503 problem')
  }
  t.ok(verifications.filter((o) => o.status === 201).length >= 10, 'the verifications in flight were completed')
  // Kept alive, their connections would hold close() until keepAliveTimeout (5 s).
  t.ok(verifications.filter((o) => o.status === 201 && o.connection === 'close').length >= 10, 'answers finished while closing end their connection')
  t.comment(`${outcomes.filter((o) => o.status === 200 || o.status === 201).length} of 50 completed before the port closed`)
})

test('SIGTERM with ~50 requests in flight: all answered, exit 0 within the grace period', async (t) => {
  const sms = await slowSmsWebhook(t)
  const server = await startServer({ API_KEYS: API_KEY, RATE_LIMIT_MAX: '100000', LOG_LEVEL: 'info', ...sms.env })
  const inFlight = load(server.port, 'sig')
  await smsInFlight(sms, 10)
  const signalled = Date.now()
  server.kill('SIGTERM')
  const outcomes = await Promise.all(inFlight)
  const code = await server.exited
  const seconds = (Date.now() - signalled) / 1000
  t.equal(code, 0, 'clean exit')
  t.ok(seconds < 10, `exited ${seconds.toFixed(1)} s after SIGTERM (grace period 10 s)`)
  t.ok(outcomes.every((o) => [0, 200, 201, 503].includes(o.status)), `every request got 200/201, 503 (closing) or a refused connection, never a 500 or a hang (${[...new Set(outcomes.map((o) => o.status))].join(',')})`)
  t.ok(outcomes.filter((o) => o.status === 201).length >= 10, 'the verifications in flight were completed')
  t.ok(outcomes.filter((o) => o.status === 200).every((o) => (JSON.parse(o.body) as { token?: string }).token !== undefined), 'every 200 carries its token')
  t.ok(outcomes.filter((o) => o.status === 201).every((o) => (JSON.parse(o.body) as { status?: string }).status === 'pending'), 'every 201 is a pending verification')
  t.equal(sms.received.length, outcomes.filter((o) => o.kind === 'verification' && o.status === 201).length, 'one SMS per 201, none without one')
})
