import { test } from 'tap'
import { request } from 'node:http'
import { API_KEY, buildTestApp, decodeJwt } from '../helper.js'
import { startServer } from '../process.js'

interface Outcome { status: number, body: string }

async function post (port: number, path: string, headers: Record<string, string>, body: string): Promise<Outcome> {
  return await new Promise((resolve) => {
    const outgoing = request({ host: '127.0.0.1', port, path, method: 'POST', headers: { ...headers, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (response) => {
      let text = ''
      response.on('data', (chunk) => { text += String(chunk) })
      response.on('end', () => { resolve({ status: response.statusCode ?? 0, body: text }) })
      response.on('error', () => { resolve({ status: 0, body: '' }) })
    })
    // A refused or reset connection is an acceptable outcome during shutdown; a hang is not.
    outgoing.on('error', () => { resolve({ status: 0, body: '' }) })
    outgoing.setTimeout(15_000, () => { outgoing.destroy() })
    outgoing.end(body)
  })
}

test('closing under load: every 2xx has its record, nothing is stored without a response', async (t) => {
  const app = await buildTestApp(t, { env: { RATE_LIMIT_MAX: '100000' } })
  await app.listen({ port: 0, host: '127.0.0.1' })
  const { port } = app.server.address() as { port: number }
  const inFlight = Array.from({ length: 50 }, (_, i) => post(port, '/gen-jwt', { 'x-api-key': API_KEY }, JSON.stringify({ instance_id: `load-${i}` })))
  // Close (what close-with-grace does on SIGTERM) as soon as the first answer is back: the rest are in flight.
  await Promise.race(inFlight)
  const closing = app.close()
  const outcomes = await Promise.all(inFlight)
  await closing
  const succeeded = outcomes.filter((o) => o.status === 200)
  t.ok(outcomes.every((o) => [0, 200, 503].includes(o.status)), `only 200, 503 or a refused connection (${[...new Set(outcomes.map((o) => o.status))].join(',')})`)
  for (const outcome of succeeded) {
    const jti = String(decodeJwt((JSON.parse(outcome.body) as { token: string }).token).payload.jti)
    t.ok(await app.store.accessTokens.find(jti), `token ${jti} answered 200 and is recorded`)
  }
  let recorded = 0
  for (let i = 0; i < 50; i++) {
    // Each instance id was requested once; a record without a 200 would be a token nobody received.
    const ok = succeeded.some((o) => (JSON.parse(o.body) as { instance_id: string }).instance_id === `load-${i}`)
    if (ok) recorded++
  }
  t.equal(recorded, succeeded.length)
  for (const outcome of outcomes.filter((o) => o.status === 503)) {
    t.equal((JSON.parse(outcome.body) as { code: string }).code, 'shutting_down', 'a request arriving while closing gets a 503 problem')
  }
  t.comment(`${succeeded.length} of 50 completed before the port closed`)
})

test('SIGTERM with ~50 requests in flight: all answered, exit 0 within the grace period', async (t) => {
  const server = await startServer({ API_KEYS: API_KEY, RATE_LIMIT_MAX: '100000', LOG_LEVEL: 'info' })
  const inFlight = Array.from({ length: 50 }, (_, i) => post(server.port, '/gen-jwt', { 'x-api-key': API_KEY }, JSON.stringify({ instance_id: `sig-${i}` })))
  await Promise.race(inFlight)
  const signalled = Date.now()
  server.kill('SIGTERM')
  const outcomes = await Promise.all(inFlight)
  const code = await server.exited
  const seconds = (Date.now() - signalled) / 1000
  t.equal(code, 0, 'clean exit')
  t.ok(seconds < 10, `exited ${seconds.toFixed(1)} s after SIGTERM (grace period 10 s)`)
  t.ok(outcomes.every((o) => [0, 200, 503].includes(o.status)), 'every request got 200, 503 (closing) or a refused connection, never a 500 or a hang')
  t.ok(outcomes.some((o) => o.status === 200), 'requests in flight were completed')
  t.ok(outcomes.filter((o) => o.status === 200).every((o) => (JSON.parse(o.body) as { token?: string }).token !== undefined), 'every 200 carries its token')
})
