// Benchmark child: the yardstick routes (./minimal-routes.ts) with the parts the service must put
// on every route, each in its stock Fastify form and nothing more: Fastify's logger (pino) writing
// one access line per request through an asynchronous destination, credentials redacted; a request
// id in a response header; @fastify/rate-limit per caller with its RateLimit headers; an API key
// compared in constant time; body, parameter and response schemas; a prom-client latency
// histogram. What the minimal route loses to these is what no service built from these packages
// can win back; what the service loses beyond them is its own. BENCH_STOCK_PARTS (comma-separated,
// default all: log, id, limit, key, schema, metrics; `none` for none) leaves parts out, to measure
// each one's share.
// Not part of the service.
import { createHash, randomUUID, timingSafeEqual } from 'node:crypto'
import Fastify from 'fastify'
import type { RouteShorthandOptions } from 'fastify'
import rateLimit from '@fastify/rate-limit'
import { Histogram, Registry } from 'prom-client'
import SonicBoomModule from 'sonic-boom'
import { serveForBench } from './child.js'
import { minimalRoutes } from './minimal-routes.js'

const API_KEY = 'bench-api-key-0123456789abcdef'
const SonicBoom = SonicBoomModule as unknown as typeof import('sonic-boom').SonicBoom
const fingerprint = (value: string): Buffer => createHash('sha256').update(value).digest()
const apiKeyFingerprint = fingerprint(API_KEY)

const ALL_PARTS = ['log', 'id', 'limit', 'key', 'schema', 'metrics']
const parts = new Set((process.env.BENCH_STOCK_PARTS ?? ALL_PARTS.join(',')).split(',').filter(Boolean))
const unknown = [...parts].filter((part) => part !== 'none' && !ALL_PARTS.includes(part))
if (unknown.length > 0) throw new Error(`BENCH_STOCK_PARTS: unknown part(s) ${unknown.join(', ')}; known: ${ALL_PARTS.join(', ')}, or none`)
const app = Fastify({
  logger: parts.has('log') ? { level: 'info', stream: new SonicBoom({ fd: 1, sync: false }), redact: ['req.headers.authorization', 'req.headers["x-api-key"]'] } : false,
  disableRequestLogging: true,
  requestIdHeader: false,
  genReqId: () => randomUUID()
})

const registry = new Registry()
const requests = new Histogram({ name: 'http_request_duration_seconds', help: 'Request latency', labelNames: ['route', 'method', 'status'], registers: [registry] })

if (parts.has('id')) {
  app.addHook('onRequest', async (request, reply) => {
    reply.header('x-request-id', request.id)
  })
}
if (parts.has('log')) {
  app.addHook('onResponse', async (request, reply) => {
    request.log.info({ method: request.method, url: request.url, route: request.routeOptions.url, client: request.ip, statusCode: reply.statusCode, responseTime: reply.elapsedTime }, 'request completed')
  })
}
if (parts.has('metrics')) {
  app.addHook('onResponse', async (request, reply) => {
    requests.labels(request.routeOptions.url ?? 'unknown', request.method, String(reply.statusCode)).observe(reply.elapsedTime / 1000)
  })
}

if (parts.has('limit')) {
  await app.register(rateLimit, {
    max: 100_000_000,
    timeWindow: 60_000,
    enableDraftSpec: true,
    keyGenerator: (request) => {
      const key = request.headers['x-api-key']
      return typeof key === 'string' ? `key:${key}` : `ip:${request.ip}`
    }
  })
}

/** The API-key check the service's key-authorised routes run (there against a table of clients). */
async function apiKey (request: { headers: Record<string, unknown> }): Promise<void> {
  const presented = request.headers['x-api-key']
  if (typeof presented !== 'string' || !timingSafeEqual(fingerprint(presented), apiKeyFingerprint)) throw Object.assign(new Error('unauthorized'), { statusCode: 401 })
}

const instanceId = { type: 'string', minLength: 1, maxLength: 128, pattern: '^[A-Za-z0-9._:-]+$' } as const
const token = { type: 'object', required: ['token'], properties: { token: { type: 'string' }, token_type: { type: 'string' }, expires_in: { type: 'integer' }, expires_at: { type: 'string' }, instance_id: instanceId } } as const

const phone = { type: 'string', pattern: '^\\+[1-9][0-9]{6,14}$' } as const
const schemas = {
  genJwt: { body: { type: 'object', additionalProperties: false, properties: { instance_id: instanceId } }, response: { 200: token } },
  me: { response: { 200: { type: 'object', properties: { sub: { type: 'string' }, instance_id: instanceId, iat: { type: 'integer' }, exp: { type: 'integer' }, jti: { type: 'string' } } } } },
  appVerify: { params: { type: 'object', required: ['phone'], properties: { phone } } },
  start: { body: { type: 'object', required: ['auth_id', 'recipient'], additionalProperties: false, properties: { auth_id: { type: 'string', maxLength: 64 }, recipient: phone } } },
  check: {
    body: { type: 'object', required: ['auth_id', 'code'], additionalProperties: false, properties: { auth_id: { type: 'string', maxLength: 64 }, code: { type: 'string', pattern: '^[0-9]{4,10}$' } } },
    response: { 200: { type: 'object', properties: { authenticated: { type: 'boolean' }, auth_id: { type: 'string' }, status: { type: 'string' }, message: { type: 'string' }, token: { type: 'string' } } } }
  }
}
/** A route's options: its schemas and, for the key-authorised routes, the API-key check, as far as BENCH_STOCK_PARTS keeps them. */
const route = (name: keyof typeof schemas, keyed: boolean): RouteShorthandOptions => ({
  ...(parts.has('schema') ? { schema: schemas[name] } : {}),
  ...(keyed && parts.has('key') ? { onRequest: apiKey } : {})
})

minimalRoutes(app, { genJwt: route('genJwt', true), me: route('me', false), appVerify: route('appVerify', true), start: route('start', true), check: route('check', true) })

await serveForBench(app, API_KEY)
