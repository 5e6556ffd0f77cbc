import { spawn, spawnSync } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { test } from 'tap'
import type { Test } from 'tap'
import { VERSION } from '../../lib/version.js'
import { API_KEY, assertProblem, buildTestApp, OTHER_API_KEY, redisReachable, redisSkipReason, waitUntilReady } from '../helper.js'

const REDIS_URL = 'redis://127.0.0.1:6379/7'

test('an API client\'s budget answers 429 problem+json naming the budget, with RateLimit headers and Retry-After; 404s count on the address', async (t) => {
  const app = await buildTestApp(t, { env: { RATE_LIMIT_CLIENT: '3 per minute' } })
  for (let i = 0; i < 3; i++) {
    const ok = await app.inject({ method: 'POST', url: '/gen-jwt', headers: { 'x-api-key': API_KEY }, payload: {} })
    t.equal(ok.statusCode, 200)
    t.equal(ok.headers['ratelimit-limit'], '3')
    t.equal(ok.headers['ratelimit-remaining'], String(2 - i))
  }
  const limited = await app.inject({ method: 'POST', url: '/gen-jwt', headers: { 'x-api-key': API_KEY }, payload: {} })
  assertProblem(t, limited, 429, 'rate_limited')
  t.match(limited.json(), { limit: { budget: 'client', max: 3, window_seconds: 60 } })
  t.ok(Number(limited.headers['retry-after']) >= 1)
  t.equal((await app.inject({ method: 'POST', url: '/gen-jwt', headers: { 'x-api-key': OTHER_API_KEY }, payload: {} })).statusCode, 200, 'another client has its own budget')

  const notFound = await buildTestApp(t, { env: { RATE_LIMIT_MAX: '2' } })
  for (let i = 0; i < 2; i++) t.equal((await notFound.inject({ url: `/missing-${i}` })).statusCode, 404)
  assertProblem(t, await notFound.inject({ url: '/missing-3' }), 429, 'rate_limited')
  t.equal((await notFound.inject({ url: '/health/live' })).statusCode, 200, 'health checks are never limited')
})

test('a wrong API key is rate limited before it is checked', async (t) => {
  const app = await buildTestApp(t, { env: { RATE_LIMIT_MAX: '2' } })
  for (let i = 0; i < 2; i++) {
    assertProblem(t, await app.inject({ method: 'POST', url: '/gen-jwt', headers: { 'x-api-key': `guess-${i}-0123456789` }, payload: {} }), 401, 'invalid_api_key')
  }
  assertProblem(t, await app.inject({ method: 'POST', url: '/gen-jwt', headers: { 'x-api-key': 'guess-3-0123456789' }, payload: {} }), 429, 'rate_limited')
})

test('RATE_LIMIT_BAN turns repeated 429s into 403', async (t) => {
  const app = await buildTestApp(t, { env: { RATE_LIMIT_MAX: '1', RATE_LIMIT_BAN: '1' } })
  t.equal((await app.inject({ url: '/v1/me' })).statusCode, 401)
  assertProblem(t, await app.inject({ url: '/v1/me' }), 429, 'rate_limited')
  assertProblem(t, await app.inject({ url: '/v1/me' }), 403, 'rate_limit_banned')
})

test('TRUST_PROXY decides whose address is limited', async (t) => {
  const trusting = await buildTestApp(t, { env: { RATE_LIMIT_MAX: '1', TRUST_PROXY: '127.0.0.1' } })
  t.equal((await trusting.inject({ url: '/v1/me', headers: { 'x-forwarded-for': '203.0.113.1' } })).statusCode, 401)
  t.equal((await trusting.inject({ url: '/v1/me', headers: { 'x-forwarded-for': '203.0.113.2' } })).statusCode, 401, 'another client behind the proxy has its own budget')
  assertProblem(t, await trusting.inject({ url: '/v1/me', headers: { 'x-forwarded-for': '203.0.113.1' } }), 429, 'rate_limited')

  const direct = await buildTestApp(t, { env: { RATE_LIMIT_MAX: '1' } })
  t.equal((await direct.inject({ url: '/v1/me', headers: { 'x-forwarded-for': '203.0.113.1' } })).statusCode, 401)
  assertProblem(t, await direct.inject({ url: '/v1/me', headers: { 'x-forwarded-for': '203.0.113.2' } }), 429, 'rate_limited')
})

const redisSkip = await redisSkipReason(REDIS_URL, 'the shared rate-limit test')

test('two instances sharing Redis enforce one budget', { skip: redisSkip }, async (t) => {
  const env = { RATE_LIMIT_MAX: '4', REDIS_URL }
  const first = await buildTestApp(t, { env })
  const second = await buildTestApp(t, { env })
  // Both connected first: this test is about one budget, not about start-up.
  await Promise.all([waitUntilReady(first), waitUntilReady(second)])
  const statuses: number[] = []
  for (let i = 0; i < 8; i++) {
    const app = i % 2 === 0 ? first : second
    statuses.push((await app.inject({ url: '/v1/me' })).statusCode)
  }
  t.same(statuses, [401, 401, 401, 401, 429, 429, 429, 429], 'the fifth request is limited, whichever instance takes it')
})

test('with Redis unreachable, limited routes fail closed with 503', async (t) => {
  const app = await buildTestApp(t, { env: { REDIS_URL: 'redis://127.0.0.1:1' } })
  const response = await app.inject({ method: 'POST', url: '/gen-jwt', headers: { 'x-api-key': API_KEY }, payload: {} })
  const body = assertProblem(t, response, 503, 'rate_limit_unavailable')
  t.notOk('token' in body)
  t.equal(response.headers['retry-after'], '5')
  t.equal((await app.inject({ url: '/health/live' })).statusCode, 200)
})

/** A redis-server of our own on another port, to stop and start by pid. */
async function ownRedis (t: Test, port: number): Promise<{ stop: () => Promise<void>, start: () => Promise<void> }> {
  let child: ChildProcess | undefined
  const start = async (): Promise<void> => {
    child = spawn('redis-server', ['--bind', '127.0.0.1', '--port', String(port), '--save', '', '--appendonly', 'no'], { stdio: 'ignore' })
    for (let i = 0; i < 50 && !(await redisReachable(`redis://127.0.0.1:${port}`)); i++) await new Promise((resolve) => setTimeout(resolve, 100))
  }
  const stop = async (): Promise<void> => {
    const running = child
    if (running === undefined || running.exitCode !== null) return
    const exited = once(running, 'exit')
    running.kill('SIGKILL')
    await exited
  }
  t.teardown(stop)
  await start()
  return { stop, start }
}

const noRedisServer = spawnSync('redis-server', ['--version']).status === 0 ? false : 'redis-server is not installed'

test('Redis down: readiness says so (503), rate-limited routes fail closed, docs and JWKS stay up; back: served again and logged', { skip: noRedisServer }, async (t) => {
  const port = 6391
  const redis = await ownRedis(t, port)
  const app = await buildTestApp(t, { env: { REDIS_URL: `redis://127.0.0.1:${port}`, LOG_LEVEL: 'info' } })
  const lines: string[] = []
  const info = app.log.info.bind(app.log)
  const warn = app.log.warn.bind(app.log)
  app.log.info = ((...args: unknown[]) => { lines.push(JSON.stringify(args)); (info as (...a: unknown[]) => void)(...args) }) as typeof app.log.info
  app.log.warn = ((...args: unknown[]) => { lines.push(JSON.stringify(args)); (warn as (...a: unknown[]) => void)(...args) }) as typeof app.log.warn
  const mint = async (): Promise<number> => (await app.inject({ method: 'POST', url: '/gen-jwt', headers: { 'x-api-key': API_KEY }, payload: {} })).statusCode
  t.same((await app.inject({ url: '/health/ready' })).json(), { status: 'ok', version: VERSION, store: 'memory', redis: 'ok' })
  t.equal(await mint(), 200)

  await redis.stop()
  let ready = await app.inject({ url: '/health/ready' })
  for (let i = 0; i < 30 && ready.statusCode === 200; i++) {
    await new Promise((resolve) => setTimeout(resolve, 100))
    ready = await app.inject({ url: '/health/ready' })
  }
  const body = assertProblem(t, ready, 503, 'rate_limit_unavailable')
  t.match(body.detail, /Redis/)
  t.equal(await mint(), 503, 'a route with shared counters fails closed')
  t.equal((await app.inject({ url: '/.well-known/jwks.json' })).statusCode, 200, 'JWKS stays up')
  t.equal((await app.inject({ url: '/docs/json' })).statusCode, 200, 'Swagger UI stays up')
  t.equal((await app.inject({ url: '/health/live' })).statusCode, 200)

  await redis.start()
  for (let i = 0; i < 100 && (await app.inject({ url: '/health/ready' })).statusCode !== 200; i++) await new Promise((resolve) => setTimeout(resolve, 100))
  t.equal((await app.inject({ url: '/health/ready' })).statusCode, 200, 'ready again without a restart')
  t.equal(await mint(), 200)
  t.equal(lines.filter((line) => line.includes('Redis is unreachable')).length, 1, 'the outage is logged once')
  t.equal(lines.filter((line) => line.includes('Redis is reachable again')).length, 1, 'and so is the recovery')
  t.notMatch(lines.join('\n'), /127\.0\.0\.1:6391/, 'no host or port in the log')
})

test('a Redis that comes up while the service starts is waited for: the first request is counted, not refused', { skip: noRedisServer }, async (t) => {
  const port = 6392
  // The first connection attempts fail (nothing listens yet); ioredis retries, and start-up waits for it rather than for the first error.
  const starting = buildTestApp(t, { env: { REDIS_URL: `redis://127.0.0.1:${port}` } })
  await new Promise((resolve) => setTimeout(resolve, 300))
  await ownRedis(t, port)
  const app = await starting
  t.equal((await app.inject({ method: 'POST', url: '/gen-jwt', headers: { 'x-api-key': API_KEY }, payload: {} })).statusCode, 200)
  t.same((await app.inject({ url: '/health/ready' })).json(), { status: 'ok', version: VERSION, store: 'memory', redis: 'ok' })
})
