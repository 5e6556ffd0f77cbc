import { test } from 'tap'
import { StoreUnavailableError } from '../lib/store.js'
import { createMemoryStore } from '../plugins/store/memory.js'
import { AccessLog, callerOf, prettyLogs, rememberingSerializers } from '../server-options.js'
import { API_KEY, appWithLogs, testConfig } from './helper.js'

test('access log: one flat line per request, path only, no credentials', async (t) => {
  const { fastify, lines } = await appWithLogs(t)
  const response = await fastify.inject({ method: 'POST', url: '/gen-jwt?code=123456', headers: { 'x-api-key': API_KEY }, payload: {} })
  t.equal(response.statusCode, 200)
  const access = lines.filter((line) => line.reqId === response.headers['x-request-id'])
  t.equal(access.length, 1, 'exactly one line for the request')
  t.match(access[0], { msg: 'request completed', method: 'POST', url: '/gen-jwt?[query]', route: '/gen-jwt', client: '127.0.0.1', caller: /^client:[0-9a-f]{12}$/, statusCode: 200, responseTime: Number })
  t.notOk('req' in (access[0] ?? {}) || 'res' in (access[0] ?? {}), 'flat fields, no nested req/res')
  t.notMatch(JSON.stringify(lines), /123456|test-api-key|eyJ/, 'no code, key or token in the log')
  t.notOk(lines.some((line) => line.msg === 'incoming request'), 'no incoming-request line')
})

test('the production logger censors credentials at the top of a line, one level down and in request headers', async (t) => {
  const { fastify, lines } = await appWithLogs(t)
  const error = Object.assign(new Error('provider refused'), { apiKey: 'k-123', status: 403 })
  fastify.log.info({
    token: 'eyJ.top',
    detail: { password: 'hunter2', otp: '123456', secret: 's3', body: 'raw body', apiKey: 'k-456', kept: 'visible' },
    req: { method: 'GET', url: '/x', headers: { authorization: 'Bearer eyJ.hdr', 'x-api-key': 'k-789', dpop: 'eyJ.proof', cookie: 'sid=1', accept: '*/*' } },
    err: error
  }, 'probe')
  const probe = lines.find((line) => line.msg === 'probe')
  t.match(probe, {
    token: '[REDACTED]',
    detail: { password: '[REDACTED]', otp: '[REDACTED]', secret: '[REDACTED]', body: '[REDACTED]', apiKey: '[REDACTED]', kept: 'visible' },
    err: { type: 'Error', message: 'provider refused', stack: /^Error: provider refused\n/, apiKey: '[REDACTED]', status: 403 }
  })
  t.notMatch(JSON.stringify(probe), /eyJ|hunter2|123456|s3"|raw body|k-\d/, 'no credential anywhere in the line')
  t.equal(error.apiKey, 'k-123', 'the logged error itself is untouched')
})

test('access log: a failed response still logs at error level with the error', async (t) => {
  const logged: Array<{ level: string, object: Record<string, unknown>, msg: string }> = []
  const log = {
    info: (object: Record<string, unknown>, msg: string) => logged.push({ level: 'info', object, msg }),
    error: (object: Record<string, unknown>, msg: string) => logged.push({ level: 'error', object, msg })
  }
  const request = { method: 'GET', url: '/v1/me', log }
  const reply = { statusCode: 500, elapsedTime: 1.5, log }
  new AccessLog().requestCompleted(new Error('socket hang up'), request as never, reply as never)
  t.equal(logged.length, 1)
  t.match(logged[0], { level: 'error', msg: 'request errored', object: { responseTime: 1.5 } })
  t.equal((logged[0]?.object.err as Error).message, 'socket hang up')
})

test('access log: the client address behind a trusted proxy, the caller by token subject (phones masked), the route pattern', async (t) => {
  const { fastify, lines } = await appWithLogs(t, { TRUST_PROXY: '127.0.0.1' })
  const minted = await fastify.inject({ method: 'POST', url: '/gen-jwt', headers: { 'x-api-key': API_KEY }, payload: { instance_id: 'device-9' } })
  const token = minted.json<{ token: string }>().token
  const me = await fastify.inject({ url: '/v1/me', headers: { authorization: `Bearer ${token}`, 'x-instance-id': 'device-9', 'x-forwarded-for': '203.0.113.7' } })
  t.equal(me.statusCode, 200)
  t.match(lines.find((line) => line.reqId === me.headers['x-request-id']), { route: '/v1/me', client: '203.0.113.7', caller: 'instance:device-9' })
  const appVerify = await fastify.inject({ url: '/v1/token/15551234567', headers: { 'x-api-key': API_KEY } })
  t.match(lines.find((line) => line.reqId === appVerify.headers['x-request-id']), { route: '/v1/token/:phone_number', caller: /^client:/ })
  const anonymous = await fastify.inject({ url: '/health/live' })
  const line = lines.find((entry) => entry.reqId === anonymous.headers['x-request-id'])
  t.equal(line?.caller, undefined, 'no caller for an anonymous request')
  t.notMatch(JSON.stringify(lines), token.split('.')[2] ?? 'never', 'never the token')
  t.equal(callerOf({ principal: { kind: 'token', claims: { sub: 'phone:+15551234567' }, token: 'x' } } as never), 'phone:+1******4567', 'a verified phone subject is masked')
})

test('pretty logs only on a development terminal, or when LOG_FORMAT=pretty', async (t) => {
  t.equal(prettyLogs(testConfig(), true), true)
  t.equal(prettyLogs(testConfig(), false), false, 'a pipe gets JSON')
  t.equal(prettyLogs(testConfig({ LOG_FORMAT: 'json' }), true), false)
  t.equal(prettyLogs(testConfig({ LOG_FORMAT: 'pretty' }), false), true)
})

test('a 503 (a dependency not answering) is logged as a warning, not an error: readiness probes meet it routinely', async (t) => {
  const memory = createMemoryStore()
  const { fastify, lines } = await appWithLogs(t, {}, { ...memory, ping: async () => { throw new StoreUnavailableError() } })
  const ready = await fastify.inject({ url: '/health/ready' })
  t.equal(ready.statusCode, 503)
  const line = lines.find((entry) => entry.reqId === ready.headers['x-request-id'] && entry.code === 'store_unavailable')
  t.match(line, { level: 40, msg: 'request failed: unavailable' })
  t.notOk(lines.some((entry) => Number(entry.level) >= 50), 'no error line')
})

test('response serializers: compiled once per schema and shared schemas, reused by every app the process builds', async (t) => {
  const compiled: unknown[] = []
  const factory = rememberingSerializers((externalSchemas) => ({ schema }) => {
    compiled.push(schema)
    return (doc: unknown) => JSON.stringify({ externalSchemas, doc })
  })
  const shared = { Thing: { $id: 'Thing', type: 'object' } }
  const route = (schema: unknown): { schema: unknown, method: string, url: string, httpStatus: string } => ({ schema, method: 'GET', url: '/x', httpStatus: '200' })
  const first = factory(shared, {})(route({ type: 'string' }))
  const again = factory(structuredClone(shared), {})(route({ type: 'string' }))
  t.equal(again, first, 'an equal schema with equal shared schemas and options reuses the compiled serializer')
  t.equal(compiled.length, 1)
  t.not(factory(shared, {})(route({ type: 'number' })), first, 'another schema is compiled')
  t.not(factory({ Other: { $id: 'Other' } }, {})(route({ type: 'string' })), first, 'other shared schemas are compiled apart')
  t.not(factory(shared, { rounding: 'floor' })(route({ type: 'string' })), first, 'other options are compiled apart')
  t.equal(compiled.length, 4)
  for (let n = 0; n < 16; n++) factory({ [`S${n}`]: { $id: `S${n}` } }, {})(route({ type: 'string' }))
  factory(shared, {})(route({ type: 'string' }))
  t.equal(compiled.length, 21, 'at most 16 sets of shared schemas are kept: the oldest is compiled again')

  const { fastify } = await appWithLogs(t)
  const { fastify: second } = await appWithLogs(t)
  for (const app of [fastify, second]) {
    const response = await app.inject({ method: 'POST', url: '/gen-jwt', headers: { 'x-api-key': API_KEY }, payload: { instance_id: 'device-1' } })
    t.equal(response.statusCode, 200, 'two apps in one process answer through the shared serializers')
    t.match(response.json(), { token: String, instance_id: 'device-1' })
  }
})
