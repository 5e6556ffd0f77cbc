import { test } from 'tap'
import { randomBytes } from 'node:crypto'
import { redisSkipReason } from '../helper.js'
import { startServer } from '../process.js'

const REDIS_URL = 'redis://127.0.0.1:6379/8'
const API_KEY = 'instances-api-key-0123456789'

const skip = await redisSkipReason(REDIS_URL, 'the several-instance test')

test('two service processes sharing Redis and keys: one budget per token subject across both, tokens valid on both', { skip }, async (t) => {
  const env = {
    API_KEYS: API_KEY,
    JWT_SECRET: randomBytes(32).toString('base64'),
    OTP_PEPPER: randomBytes(32).toString('base64'),
    APPVERIFY_API_KEY: randomBytes(32).toString('base64'),
    REDIS_URL,
    RATE_LIMIT_SUBJECT: '10 per minute',
    LOG_LEVEL: 'info'
  }
  const first = await startServer(env)
  const second = await startServer(env)
  t.teardown(() => {
    first.kill('SIGTERM')
    second.kill('SIGTERM')
  })

  const issued = await fetch(`${first.base}/gen-jwt`, { method: 'POST', headers: { 'x-api-key': API_KEY, 'content-type': 'application/json' }, body: '{"instance_id":"phone-1"}' })
  t.equal(issued.status, 200)
  const { token } = await issued.json() as { token: string }
  const elsewhere = await fetch(`${second.base}/v1/me`, { headers: { authorization: `Bearer ${token}`, 'x-instance-id': 'phone-1' } })
  t.equal(elsewhere.status, 200, 'a token issued by one instance verifies on the other')

  const statuses: number[] = []
  for (let i = 0; i < 30; i++) {
    const base = i % 2 === 0 ? first.base : second.base
    const response = await fetch(`${base}/v1/me`, { headers: { authorization: `Bearer ${token}`, 'x-instance-id': 'phone-1' } })
    statuses.push(response.status)
    await response.arrayBuffer()
  }
  const allowed = statuses.filter((s) => s === 200).length
  // The /v1/me above already used one of the subject's 10 (minting counts on the API client's budget).
  t.equal(allowed, 9, `exactly the remaining budget passed across both instances (${statuses.join(',')})`)
  t.ok(statuses.slice(9).every((s) => s === 429), 'everything after the budget is 429')
  const otherDevice = await fetch(`${first.base}/gen-jwt`, { method: 'POST', headers: { 'x-api-key': API_KEY, 'content-type': 'application/json' }, body: '{"instance_id":"phone-2"}' })
  const { token: secondToken } = await otherDevice.json() as { token: string }
  t.equal((await fetch(`${second.base}/v1/me`, { headers: { authorization: `Bearer ${secondToken}`, 'x-instance-id': 'phone-2' } })).status, 200, 'another device on the same address is not affected')
})

test('a service process whose Redis is unreachable fails closed: rate-limited auth routes answer 503, liveness 200', async (t) => {
  const server = await startServer({ API_KEYS: API_KEY, REDIS_URL: 'redis://127.0.0.1:1', LOG_LEVEL: 'info' })
  t.teardown(() => { server.kill('SIGTERM') })
  const requests: Array<[string, RequestInit]> = [
    ['/gen-jwt', { method: 'POST', headers: { 'x-api-key': API_KEY, 'content-type': 'application/json' }, body: '{}' }],
    ['/v1/auth/login', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"username":"alice","password":"correct horse battery"}' }],
    ['/v1/verifications/check', { method: 'POST', headers: { 'x-api-key': API_KEY, 'content-type': 'application/json' }, body: '{"auth_id":"a","code":"123456"}' }],
    ['/v1/token/15551234567', { headers: { 'x-api-key': API_KEY } }]
  ]
  for (const [path, init] of requests) {
    const response = await fetch(`${server.base}${path}`, init)
    const body = await response.json() as { code?: string, token?: string }
    t.equal(response.status, 503, `${path}: 503, not let through`)
    t.equal(body.code, 'rate_limit_unavailable', `${path}: rate_limit_unavailable`)
    t.ok(Number(response.headers.get('retry-after')) >= 1, `${path}: Retry-After`)
    t.notOk('token' in body, `${path}: nothing issued`)
  }
  t.equal((await fetch(`${server.base}/health/live`)).status, 200)
})

test('WORKERS: several processes share one port, the store and Redis; revocation on one is honoured by all; SIGTERM closes them all', { skip }, async (t) => {
  const { startStandin } = await import('../mongo-standin.js')
  const standin = await startStandin()
  t.teardown(() => standin.stop())
  const server = await startServer({
    WORKERS: '2',
    API_KEYS: API_KEY,
    MONGODB_URL: standin.url,
    MONGODB_DATABASE: 'tokenmint_workers',
    REDIS_URL,
    LOG_LEVEL: 'info'
  }, /starting 2 workers[\s\S]*Server listening[\s\S]*Server listening/)
  t.teardown(() => { server.kill('SIGKILL') })
  // Ready once both workers have their MongoDB indexes.
  for (let waited = 0; waited < 15_000; waited += 100) {
    if ((await fetch(`${server.base}/health/ready`, { headers: { connection: 'close' } })).status === 200) break
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  const close = { connection: 'close' }
  const issued = await fetch(`${server.base}/gen-jwt`, { method: 'POST', headers: { ...close, 'x-api-key': API_KEY, 'content-type': 'application/json' }, body: '{}' })
  t.equal(issued.status, 200)
  const { token } = await issued.json() as { token: string }
  // A new connection each time: the primary hands them to the workers in turn.
  const before = new Set<number>()
  for (let i = 0; i < 6; i++) {
    const response = await fetch(`${server.base}/v1/me`, { headers: { ...close, authorization: `Bearer ${token}` } })
    before.add(response.status)
    await response.arrayBuffer()
  }
  t.same([...before], [200], 'a token minted by one worker verifies on every worker (the development secrets were settled once, by the primary)')
  t.equal((await fetch(`${server.base}/v1/tokens/revoke`, { method: 'POST', headers: { ...close, 'x-api-key': API_KEY, 'content-type': 'application/json' }, body: JSON.stringify({ token }) })).status, 200)
  const after = new Set<string>()
  for (let i = 0; i < 6; i++) {
    const response = await fetch(`${server.base}/v1/me`, { headers: { ...close, authorization: `Bearer ${token}` } })
    after.add(`${response.status} ${(await response.json() as { code: string }).code}`)
  }
  t.same([...after], ['401 token_revoked'], 'the revoked token is refused by every worker')
  const pids = (status: number): Set<number> => new Set(server.output().split('\n')
    .filter((line) => line.includes('"/v1/me"') && line.includes(`"statusCode":${status}`))
    .map((line) => (JSON.parse(line) as { pid: number }).pid))
  t.equal(pids(200).size, 2, 'both workers answered before the revocation')
  t.equal(pids(401).size, 2, 'and both refused after it')

  server.kill('SIGTERM')
  t.equal(await server.exited, 0, 'the primary exits cleanly once both workers have closed')
  t.match(server.output(), /closing: asking every worker/)
})

test('WORKERS above 1 on the memory store or without Redis is refused, naming both', async (t) => {
  const { spawnServer } = await import('../process.js')
  const child = spawnServer({ WORKERS: '4' })
  let output = ''
  child.stderr.on('data', (chunk) => { output += String(chunk) })
  const code = await new Promise<number | null>((resolve) => { child.on('close', resolve) })
  t.equal(code, 1)
  t.match(output, /WORKERS: 4 processes need MONGODB_URL/)
  t.match(output, /WORKERS: 4 processes need REDIS_URL/)
})
