import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'tap'
import type { Test } from 'tap'
import { API_KEY, appWithLogs, buildTestApp, json } from '../helper.js'
import { createMemoryStore } from '../../plugins/store/memory.js'
import { parseWebhooks, retryDelayMs, signWebhook, verifyWebhook } from '../../lib/webhooks.js'
import { EVENT_TYPES } from '../../lib/webhooks.js'

const SECRET_A = 'whsec_' + Buffer.from('a'.repeat(32)).toString('base64')
const SECRET_B = 'b'.repeat(40)

interface Received { id: string, body: Record<string, unknown>, authentic: boolean }

/** A webhook receiver on a real port that fails its first `failFirst` attempts (500), then answers 204. */
async function receiver (t: Test, secret: string, failFirst = 0): Promise<{ url: string, received: Received[], attempts: () => number, setFailures: (n: number) => void, close: () => Promise<void> }> {
  const received: Received[] = []
  let attempts = 0
  let failures = failFirst
  const server = createServer((request, response) => {
    const chunks: Buffer[] = []
    request.on('data', (chunk: Buffer) => chunks.push(chunk))
    request.on('end', () => {
      attempts++
      if (failures > 0) {
        failures--
        response.writeHead(500).end()
        return
      }
      const body = Buffer.concat(chunks).toString('utf8')
      const headers = { id: String(request.headers['webhook-id']), timestamp: String(request.headers['webhook-timestamp']), signature: String(request.headers['webhook-signature']) }
      received.push({ id: headers.id, body: JSON.parse(body) as Record<string, unknown>, authentic: verifyWebhook(secret, headers, body, Math.floor(Date.now() / 1000)) })
      response.writeHead(204).end()
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const close = async (): Promise<void> => { server.closeAllConnections(); await new Promise<void>((resolve) => server.close(() => { resolve() })) }
  t.teardown(close)
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`, received, attempts: () => attempts, setFailures: (n) => { failures = n }, close }
}

async function until (condition: () => boolean, ms = 8000): Promise<void> {
  const deadline = Date.now() + ms
  while (!condition() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 25))
}

function webhooksFile (t: Test, endpoints: unknown[]): string {
  const file = join(t.testdir(), 'webhooks.json')
  writeFileSync(file, JSON.stringify({ endpoints }))
  return file
}

test('a receiver that fails twice then succeeds gets each event exactly once, signed; each endpoint only its events', async (t) => {
  const verifications = await receiver(t, SECRET_A, 2)
  const revocations = await receiver(t, SECRET_B)
  const file = webhooksFile(t, [
    { id: 'crm', url: verifications.url, secret: SECRET_A, events: ['verification.approved', 'verification.canceled'] },
    { id: 'audit', url: revocations.url, secret: SECRET_B, events: ['token.revoked'] }
  ])
  const codes: string[] = []
  const app = await buildTestApp(t, { env: { WEBHOOKS_FILE: file, WEBHOOK_RETRY_BASE_MS: '20', SMS_PROVIDER: 'console' } })
  const print = process.stdout.write.bind(process.stdout)
  process.stdout.write = ((chunk: string | Uint8Array, ...rest: never[]) => {
    const code = /\n(\d{6})\n/.exec(String(chunk))?.[1]
    if (code !== undefined) { codes.push(code); return true }
    return print(chunk, ...rest)
  }) as typeof process.stdout.write
  const key = { 'x-api-key': API_KEY }
  try {
    t.equal((await app.inject({ method: 'POST', url: '/v1/verifications', headers: key, payload: { auth_id: 'hook-1', recipient: '+15551234567' } })).statusCode, 201)
  } finally {
    process.stdout.write = print
  }
  t.equal((await app.inject({ method: 'POST', url: '/v1/verifications/check', headers: key, payload: { auth_id: 'hook-1', code: codes[0] } })).statusCode, 200)
  const minted = json(await app.inject({ method: 'POST', url: '/gen-jwt', headers: key, payload: {} }))
  await app.inject({ method: 'POST', url: '/v1/tokens/revoke', headers: key, payload: { token: minted.token } })

  await until(() => verifications.received.length >= 1 && revocations.received.length >= 1)
  await new Promise((resolve) => setTimeout(resolve, 600))
  t.equal(verifications.attempts(), 3, 'two failures, then the success')
  t.equal(verifications.received.length, 1, 'delivered once')
  const [approved] = verifications.received
  t.ok(approved?.authentic, 'the signature verifies with the Standard Webhooks scheme')
  t.match(approved?.body, { id: approved?.id, type: 'verification.approved', created_at: String, data: { auth_id: 'hook-1', verification_id: String } })
  t.notMatch(JSON.stringify(approved?.body), new RegExp(String(codes[0])), 'never the code')
  t.equal(revocations.received.length, 1)
  t.match(revocations.received[0]?.body, { type: 'token.revoked', data: { jti: String, sub: String, reason: 'revoked' } })
  t.notMatch(JSON.stringify(revocations.received[0]?.body), /eyJ/, 'never the token')

  const log = json<{ items: Array<Record<string, unknown>> }>(await app.inject({ url: '/v1/webhooks/deliveries', headers: key }))
  t.match(log.items, [{ event_type: 'token.revoked', endpoint_id: 'audit', status: 'delivered', attempts: 1, last_result: '204' }, { event_type: 'verification.approved', endpoint_id: 'crm', status: 'delivered', attempts: 3, last_result: '204' }])
  t.equal(json<{ items: unknown[] }>(await app.inject({ url: '/v1/webhooks/deliveries?status=failed', headers: key })).items.length, 0)
  t.equal(json<{ items: unknown[] }>(await app.inject({ url: '/v1/webhooks/deliveries?event_type=token.revoked&limit=5', headers: key })).items.length, 1)
  t.equal((await app.inject({ url: '/v1/webhooks/deliveries?status=lost', headers: key })).statusCode, 400)
  t.equal((await app.inject({ url: '/v1/webhooks/deliveries?limit=0x10', headers: key })).statusCode, 400)
})

test('queued deliveries survive a restart and are delivered once when the receiver comes back; failures stop at the cap', async (t) => {
  const hook = await receiver(t, SECRET_B, 1000)
  const file = webhooksFile(t, [{ id: 'ops', url: hook.url, secret: SECRET_B, events: ['*'] }])
  const store = createMemoryStore()
  const env = { WEBHOOKS_FILE: file, WEBHOOK_RETRY_BASE_MS: '10000' }
  const first = await buildTestApp(t, { store, env })
  const minted = json(await first.inject({ method: 'POST', url: '/gen-jwt', headers: { 'x-api-key': API_KEY }, payload: {} }))
  await first.inject({ method: 'POST', url: '/v1/tokens/revoke', headers: { 'x-api-key': API_KEY }, payload: { token: minted.token } })
  await until(() => hook.attempts() >= 1)
  await first.close()
  t.equal(hook.received.length, 0, 'not delivered before the restart')

  // The store outlives the process (MongoDB in production; the same memory store object here).
  hook.setFailures(0)
  const listed = json<{ items: Array<Record<string, unknown>> }>(await (await buildTestApp(t, { store })).inject({ url: '/v1/webhooks/deliveries?limit=1', headers: { 'x-api-key': API_KEY } }))
  t.match(listed.items, [{ status: 'pending', attempts: 1, next_attempt_at: String, last_result: '500' }], 'the log shows when a pending delivery is tried next')
  const pending = await store.webhookDeliveries.list({ limit: 10 })
  t.match(pending, [{ status: 'pending', attempts: 1 }])
  await store.webhookDeliveries.settle(String(pending[0]?.id), { delivered: false, result: 'test: due now', at: new Date(), retryAt: new Date(), purgeAt: new Date(Date.now() + 60_000) })
  const second = await buildTestApp(t, { store, env })
  await until(() => hook.received.length >= 1)
  await new Promise((resolve) => setTimeout(resolve, 500))
  t.equal(hook.received.length, 1, 'delivered once, after the restart')
  t.match(json<{ items: unknown[] }>(await second.inject({ url: '/v1/webhooks/deliveries', headers: { 'x-api-key': API_KEY } })).items, [{ status: 'delivered', attempts: 3 }])

  const capped = await receiver(t, SECRET_B, 1000)
  const cappedFile = webhooksFile(t, [{ id: 'down', url: capped.url, secret: SECRET_B, events: ['token.revoked'] }])
  const third = await buildTestApp(t, { env: { WEBHOOKS_FILE: cappedFile, WEBHOOK_RETRY_BASE_MS: '10', WEBHOOK_MAX_ATTEMPTS: '3' } })
  const other = json(await third.inject({ method: 'POST', url: '/gen-jwt', headers: { 'x-api-key': API_KEY }, payload: {} }))
  await third.inject({ method: 'POST', url: '/v1/tokens/revoke', headers: { 'x-api-key': API_KEY }, payload: { token: other.token } })
  await until(() => capped.attempts() >= 3)
  await new Promise((resolve) => setTimeout(resolve, 600))
  t.equal(capped.attempts(), 3, 'exactly WEBHOOK_MAX_ATTEMPTS attempts')
  t.match(json<{ items: unknown[] }>(await third.inject({ url: '/v1/webhooks/deliveries', headers: { 'x-api-key': API_KEY } })).items, [{ status: 'failed', attempts: 3, last_result: '500' }])
})

test('signatures, the verification snippet, backoff and the file format', async (t) => {
  const body = '{"id":"evt_1"}'
  const signature = signWebhook(SECRET_A, 'evt_1', 1_700_000_000, body)
  t.match(signature, /^v1,[A-Za-z0-9+/]+=*$/)
  t.ok(verifyWebhook(SECRET_A, { id: 'evt_1', timestamp: '1700000000', signature }, body, 1_700_000_100))
  t.notOk(verifyWebhook(SECRET_A, { id: 'evt_1', timestamp: '1700000000', signature }, body, 1_700_001_000), 'stale: a replay later is refused')
  t.notOk(verifyWebhook(SECRET_A, { id: 'evt_2', timestamp: '1700000000', signature }, body, 1_700_000_100), 'another id')
  t.notOk(verifyWebhook(SECRET_A, { id: 'evt_1', timestamp: '1700000000', signature }, body + ' ', 1_700_000_100), 'another body')
  t.notOk(verifyWebhook(SECRET_B, { id: 'evt_1', timestamp: '1700000000', signature }, body, 1_700_000_100), 'another secret')
  t.notOk(verifyWebhook(SECRET_A, { id: 'evt_1', timestamp: 'soon', signature }, body, 1_700_000_100))
  t.same([1, 2, 3, 20].map((attempt) => retryDelayMs(attempt, 1000, () => 0.5)), [1000, 2000, 4000, 3_600_000])
  t.equal(retryDelayMs(1, 1000, () => 0), 800)
  t.equal(retryDelayMs(1, 1000, () => 1), 1200)
  const good = { id: 'a', url: 'https://hooks.example.com/x', secret: SECRET_B, events: ['*'] }
  t.equal(parseWebhooks(JSON.stringify({ endpoints: [good] }), { production: true }).length, 1)
  t.same([...parseWebhooks(`endpoints:\n  - id: b\n    url: http://127.0.0.1:9/x\n    secret: ${SECRET_B}\n    events: [token.revoked]\n`, { production: false })[0]?.events ?? []], ['token.revoked'])
  for (const [document, why] of [
    ['{', /YAML or JSON/], ['{}', /endpoints/], [{ endpoints: [{ ...good, id: 'Bad Id' }] }, /id must/], [{ endpoints: [good, good] }, /used twice/],
    [{ endpoints: [{ ...good, url: 'ftp://x' }] }, /http\(s\)/], [{ endpoints: [{ ...good, url: 'http://hooks.example.com' }] }, /https in production/],
    [{ endpoints: [{ ...good, secret: 'short' }] }, /32 characters/], [{ endpoints: [{ ...good, events: ['user.created'] }] }, /events must list/], [{ endpoints: [null] }, /mapping/]
  ] as const) {
    t.throws(() => parseWebhooks(typeof document === 'string' ? document : JSON.stringify(document), { production: true }), { message: why })
  }
  t.equal(EVENT_TYPES.length, 6)
})

test('what cannot be sent or queued is said plainly: a refused connection, a removed endpoint, a store outage', async (t) => {
  const closed = await receiver(t, SECRET_B)
  await closed.close()
  const file = webhooksFile(t, [{ id: 'gone-away', url: closed.url, secret: SECRET_B, events: ['token.revoked'] }])
  const memory = createMemoryStore()
  let down = false
  const store = {
    ...memory,
    webhookDeliveries: {
      ...memory.webhookDeliveries,
      enqueue: async (records: Parameters<typeof memory.webhookDeliveries.enqueue>[0]) => { if (down) throw new Error('store down'); await memory.webhookDeliveries.enqueue(records) },
      claimDue: async (...args: Parameters<typeof memory.webhookDeliveries.claimDue>) => { if (down) throw new Error('store down'); return await memory.webhookDeliveries.claimDue(...args) }
    }
  }
  const { fastify: app, lines } = await appWithLogs(t, { WEBHOOKS_FILE: file, WEBHOOK_RETRY_BASE_MS: '10', WEBHOOK_MAX_ATTEMPTS: '2' }, store)
  await app.ready()
  // A delivery whose endpoint has left the configuration.
  const now = new Date()
  await memory.webhookDeliveries.enqueue([{ id: 'evt_old:removed', event_id: 'evt_old', event_type: 'token.revoked', endpoint_id: 'removed', payload: '{}', status: 'pending', attempts: 0, next_attempt_at: now, created_at: now, purge_at: new Date(now.getTime() + 60_000) }])
  const minted = json(await app.inject({ method: 'POST', url: '/gen-jwt', headers: { 'x-api-key': API_KEY }, payload: {} }))
  await app.inject({ method: 'POST', url: '/v1/tokens/revoke', headers: { 'x-api-key': API_KEY }, payload: { token: minted.token } })
  await until(() => lines.some((line) => line.msg === 'webhook delivery failed for good'))
  const log = await memory.webhookDeliveries.list({ limit: 10 })
  t.match(log.find((entry) => entry.endpoint_id === 'gone-away'), { status: 'failed', attempts: 2, last_result: 'connection_refused' })
  t.match(log.find((entry) => entry.endpoint_id === 'removed'), { status: 'failed', last_result: 'endpoint_removed' })

  down = true
  const other = json(await app.inject({ method: 'POST', url: '/gen-jwt', headers: { 'x-api-key': API_KEY }, payload: {} }))
  const revoked = await app.inject({ method: 'POST', url: '/v1/tokens/revoke', headers: { 'x-api-key': API_KEY }, payload: { token: other.token } })
  t.equal(revoked.statusCode, 200, 'the request that caused the event still succeeds')
  await until(() => lines.some((line) => String(line.msg).startsWith('webhook sender: the store is not answering')))
  t.ok(lines.some((line) => line.level === 50 && String(line.msg).includes('could not be queued')), 'a lost event is an error line')
  down = false
  await until(() => lines.some((line) => line.msg === 'webhook sender: the store answers again'))
  t.ok(lines.some((line) => line.msg === 'webhook sender: the store answers again'), JSON.stringify(lines.filter((line) => !String(line.msg).includes('request')).map((line) => line.msg)))
  t.notMatch(JSON.stringify(lines), /127\.0\.0\.1:\d+|whsec_|b{40}/, 'no host, port or secret in the log')
})

test('an unreadable or malformed WEBHOOKS_FILE stops the start, naming the problem', async (t) => {
  await t.rejects(buildTestApp(t, { env: { WEBHOOKS_FILE: join(t.testdir(), 'missing.yaml') } }), { message: /WEBHOOKS_FILE cannot be read/ })
  await t.rejects(buildTestApp(t, { env: { WEBHOOKS_FILE: webhooksFile(t, [{ id: 'x', url: 'nope', secret: SECRET_B, events: ['*'] }]) } }), { message: /endpoint 1: url must be an http\(s\) URL/ })
})

test('verification.expired is sent once for a verification nobody checks again', async (t) => {
  const hook = await receiver(t, SECRET_B)
  const file = webhooksFile(t, [{ id: 'expiry', url: hook.url, secret: SECRET_B, events: ['verification.expired'] }])
  // The SMS goes to a webhook receiver (the console provider would print it into the TAP stream).
  const sms = await receiver(t, SECRET_B)
  const app = await buildTestApp(t, { env: { WEBHOOKS_FILE: file, WEBHOOK_RETRY_BASE_MS: '20', CODE_EXPIRATION: '1', SMS_PROVIDER: 'webhook', SMS_WEBHOOK_URL: sms.url, SMS_WEBHOOK_SECRET: SECRET_B } })
  t.equal((await app.inject({ method: 'POST', url: '/v1/verifications', headers: { 'x-api-key': API_KEY }, payload: { auth_id: 'quiet', recipient: '+15551234567' } })).statusCode, 201)
  await until(() => hook.received.length >= 1, 6000)
  t.equal((await app.inject({ method: 'POST', url: '/v1/verifications/check', headers: { 'x-api-key': API_KEY }, payload: { auth_id: 'quiet', code: '000000' } })).statusCode, 400, 'a later check finds it expired')
  await new Promise((resolve) => setTimeout(resolve, 1500))
  t.equal(hook.received.length, 1, 'reported once, by the sweeper, not again by the check')
  t.match(hook.received[0]?.body, { type: 'verification.expired', data: { auth_id: 'quiet', verification_id: String } })
  t.ok(hook.received[0]?.authentic)
})
