import { test } from 'tap'
import { API_KEY, buildTestApp, OTHER_API_KEY } from '../helper.js'

// Over a real port, from one address (127.0.0.1): the limits count callers, not addresses.

test('50 device tokens from one address: each device has its own budget', async (t) => {
  const app = await buildTestApp(t, { env: { RATE_LIMIT_SUBJECT: '3 per minute', RATE_LIMIT_MAX: '5' } })
  const base = await app.listen({ host: '127.0.0.1', port: 0 })
  const devices = Array.from({ length: 50 }, (_, i) => `phone-${i}`)
  const tokens = await Promise.all(devices.map(async (device) => {
    const response = await fetch(`${base}/gen-jwt`, { method: 'POST', headers: { 'x-api-key': API_KEY, 'content-type': 'application/json' }, body: JSON.stringify({ instance_id: device }) })
    return ((await response.json()) as { token: string }).token
  }))
  // Every device calls four times at once: three fit its budget, the fourth does not, whoever else shares the address.
  const statuses = await Promise.all(devices.flatMap((device, i) => Array.from({ length: 4 }, async () => {
    const response = await fetch(`${base}/v1/me`, { headers: { authorization: `Bearer ${tokens[i] ?? ''}`, 'x-instance-id': device } })
    await response.arrayBuffer()
    return { device, status: response.status }
  })))
  for (const device of devices) {
    const mine = statuses.filter((s) => s.device === device).map((s) => s.status).sort()
    if (JSON.stringify(mine) !== JSON.stringify([200, 200, 200, 429])) t.fail(`${device}: ${mine.join(',')}`)
  }
  t.equal(statuses.filter((s) => s.status === 200).length, 150, '3 × 50 answered, though the address budget is 5')
  t.equal(statuses.filter((s) => s.status === 429).length, 50)
})

test('two API clients on one address each get their own budget', async (t) => {
  const app = await buildTestApp(t, { env: { RATE_LIMIT_CLIENT: '10 per minute' } })
  const base = await app.listen({ host: '127.0.0.1', port: 0 })
  const mint = async (key: string): Promise<number> => {
    const response = await fetch(`${base}/gen-jwt`, { method: 'POST', headers: { 'x-api-key': key, 'content-type': 'application/json' }, body: '{}' })
    await response.arrayBuffer()
    return response.status
  }
  const results = await Promise.all([...Array.from({ length: 15 }, async () => ['first', await mint(API_KEY)] as const), ...Array.from({ length: 15 }, async () => ['second', await mint(OTHER_API_KEY)] as const)])
  for (const client of ['first', 'second']) {
    const ok = results.filter(([who, status]) => who === client && status === 200).length
    t.equal(ok, 10, `${client}: exactly its 10, under 15 concurrent requests`)
  }
})

test('one address flooding anonymous routes gets 429; failed authentication counts there too', async (t) => {
  const app = await buildTestApp(t, { env: { RATE_LIMIT_MAX: '20' } })
  const base = await app.listen({ host: '127.0.0.1', port: 0 })
  const statuses = await Promise.all(Array.from({ length: 40 }, async (_, i) => {
    const response = await fetch(`${base}/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: `nobody-${i}`, password: 'not the password' }) })
    await response.arrayBuffer()
    return response.status
  }))
  t.equal(statuses.filter((s) => s === 401).length, 20)
  t.equal(statuses.filter((s) => s === 429).length, 20)
  const guesses = await Promise.all(Array.from({ length: 30 }, async (_, i) => {
    const response = await fetch(`${base}/gen-jwt`, { method: 'POST', headers: { 'x-api-key': `guess-${i}-0123456789abcdef`, 'content-type': 'application/json' }, body: '{}' })
    await response.arrayBuffer()
    return response.status
  }))
  t.equal(guesses.filter((s) => s === 401).length, 20, 'twenty wrong keys get their verdict')
  t.equal(guesses.filter((s) => s === 429).length, 10, 'the rest are refused unexamined')
  const keyed = await fetch(`${base}/gen-jwt`, { method: 'POST', headers: { 'x-api-key': API_KEY, 'content-type': 'application/json' }, body: '{}' })
  t.equal(keyed.status, 200, 'a real client on the same address is not hurt')
})

test('the flood guard stops one address whatever it calls, and health checks pass it', async (t) => {
  const app = await buildTestApp(t, { env: { RATE_LIMIT_FLOOD: '30 per minute' } })
  const base = await app.listen({ host: '127.0.0.1', port: 0 })
  const statuses = await Promise.all(Array.from({ length: 40 }, async () => {
    const response = await fetch(`${base}/gen-jwt`, { method: 'POST', headers: { 'x-api-key': API_KEY, 'content-type': 'application/json' }, body: '{}' })
    await response.arrayBuffer()
    return response.status
  }))
  t.equal(statuses.filter((s) => s === 200).length, 30)
  t.equal(statuses.filter((s) => s === 429).length, 10)
  const flooded = await fetch(`${base}/gen-jwt`, { method: 'POST', headers: { 'x-api-key': API_KEY, 'content-type': 'application/json' }, body: '{}' })
  t.match(await flooded.json(), { code: 'rate_limited', limit: { budget: 'flood', max: 30 } })
  t.equal((await fetch(`${base}/health/ready`)).status, 200, 'health checks are not counted')
})
