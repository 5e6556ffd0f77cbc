import { readFileSync } from 'node:fs'
import { Writable } from 'node:stream'
import { fileURLToPath } from 'node:url'
import { Ajv } from 'ajv'
import { parse as parseYaml } from 'yaml'
import type { FastifyInstance, LightMyRequestResponse } from 'fastify'
import type { Test } from 'tap'
import Fastify from 'fastify'
import { cacheEntry, readCached, writeCached } from './loader/cache.mjs'
import fp from 'fastify-plugin'
import app, { build } from '../app.js'
import { serverOptions } from '../server-options.js'
import { loadConfig } from '../lib/config.js'
import type { Config, Env } from '../lib/config.js'
import type { Store } from '../lib/store.js'

export const API_KEY = 'test-api-key-0123456789abcdef'
export const OTHER_API_KEY = 'test-api-key-fedcba9876543210'

/** The config a test app runs with: development defaults, fixed API keys, quiet logs, no secrets file. */
export function testConfig (env: Env = {}): Config {
  // scrypt at 2^10 (test/lib/passwords.test.ts covers the production cost): a login costs 2 ms, not 200.
  return loadConfig({ API_KEYS: `${API_KEY},${OTHER_API_KEY}`, LOG_LEVEL: 'silent', ...(env.NODE_ENV === 'production' ? {} : { PASSWORD_HASH_COST: '10' }), ...env }, { secretsFile: null })
}

export interface TestAppOptions {
  env?: Env
  config?: Config
  store?: Store
}

/** Builds the real app (same build() and server options as production) and closes it after the test. */
export async function buildTestApp (t: Pick<Test, 'teardown'>, options: TestAppOptions = {}): Promise<FastifyInstance> {
  const config = options.config ?? testConfig(options.env)
  const app = await build(options.store === undefined ? { config } : { config, store: options.store })
  const responses = checkEveryResponse(app)
  t.teardown(async () => {
    await app.close()
    responses.report()
  })
  await app.ready()
  return app
}

export function json<T = Record<string, unknown>> (response: LightMyRequestResponse): T {
  return JSON.parse(response.body) as T
}

/** Decodes a compact JWT without verifying it. */
export function decodeJwt (token: string): { header: Record<string, unknown>, payload: Record<string, unknown> } {
  const [header, payload] = token.split('.')
  return {
    header: JSON.parse(Buffer.from(header ?? '', 'base64url').toString('utf8')),
    payload: JSON.parse(Buffer.from(payload ?? '', 'base64url').toString('utf8'))
  }
}

const openapiPath = fileURLToPath(new URL('../openapi.yaml', import.meta.url))
let validator: Ajv | undefined
interface OpenApiDocument { paths: Record<string, Record<string, unknown>> }
let openapiDocument: OpenApiDocument | undefined

/**
 * openapi.yaml, parsed once per test process. Parsing its 180 kB of YAML takes 0.2-0.3 s, so the
 * suite's first process leaves a JSON copy (keyed by the file's content) in the test cache
 * (test/loader/cache.mjs), and the others read that.
 */
function documented (): OpenApiDocument {
  if (openapiDocument !== undefined) return openapiDocument
  const text = readFileSync(openapiPath, 'utf8')
  const entry = cacheEntry('openapi', '.json', text)
  const cached = readCached(entry)
  if (cached !== undefined) {
    openapiDocument = JSON.parse(cached) as OpenApiDocument
  } else {
    openapiDocument = parseYaml(text) as OpenApiDocument
    writeCached(entry, JSON.stringify(openapiDocument))
  }
  return openapiDocument
}

function openapiValidator (): Ajv {
  if (validator === undefined) {
    validator = new Ajv({ strict: false, allErrors: true, validateFormats: false })
    validator.addSchema(documented(), 'openapi')
  }
  return validator
}

function pointer (...segments: string[]): string {
  return segments.map((s) => s.replaceAll('~', '~0').replaceAll('/', '~1')).join('/')
}

/**
 * Why a response does not match what openapi.yaml documents for this operation and status (the
 * status is declared, the content type is the documented one, the body validates), or undefined.
 */
export function openApiViolation (method: string, path: string, status: number, contentTypeHeader: unknown, body: string): string | undefined {
  const ajv = openapiValidator()
  const contentType = String(contentTypeHeader ?? '').split(';')[0] ?? ''
  const documented = ajv.getSchema(`openapi#/${pointer('paths', path, method.toLowerCase(), 'responses', String(status))}`)
  if (documented === undefined) return `${method} ${path} does not document status ${status}`
  if (status === 204 || status === 302) return undefined
  const validate = ajv.getSchema(`openapi#/${pointer('paths', path, method.toLowerCase(), 'responses', String(status), 'content', contentType, 'schema')}`)
  if (validate === undefined) return `${method} ${path} ${status} does not document content type ${contentType}`
  let parsed: unknown = body
  if (contentType.includes('json')) {
    try {
      parsed = JSON.parse(body)
    } catch {
      return `${method} ${path} ${status} is not JSON`
    }
  }
  return validate(parsed) ? undefined : `${method} ${path} ${status} body does not match openapi.yaml: ${JSON.stringify(validate.errors)}`
}

/** Asserts that a response matches what openapi.yaml documents (see openApiViolation). */
export function assertMatchesOpenApi (
  t: Test,
  response: LightMyRequestResponse,
  method: string,
  path: string
): void {
  const violation = openApiViolation(method, path, response.statusCode, response.headers['content-type'], response.body)
  t.ok(violation === undefined, violation ?? `${method} ${path} ${response.statusCode} matches openapi.yaml`)
}

/** The documented operations: "METHOD /path" for every operation in openapi.yaml. */
let documentedOperations: Set<string> | undefined
function isDocumented (method: string, path: string): boolean {
  if (documentedOperations === undefined) {
    documentedOperations = new Set(Object.entries(documented().paths).flatMap(([route, operations]) => Object.keys(operations).map((verb) => `${verb.toUpperCase()} ${route}`)))
  }
  return documentedOperations.has(`${method} ${path}`)
}

/**
 * Checks every response a test app sends on a documented operation against openapi.yaml, whether
 * the test asked for it or not; the test fails at teardown with the list of responses that do not
 * match. Routes the document leaves out on purpose (/docs, /metrics, the hidden catch-alls, the
 * optional Flowroute mount) are not checked. Returns how many responses were checked.
 */
export function checkEveryResponse (app: FastifyInstance): { checked: number, report: () => void } {
  const seen = { checked: 0, report }
  const violations: string[] = []
  app.addHook('onSend', async (request, reply, payload) => {
    const route = request.routeOptions.url
    if (route === undefined) return payload
    const path = route.replace(/:([A-Za-z_]+)/g, '{$1}')
    // Another method on a documented GET path: its 405 is documented on the GET.
    const method = reply.statusCode === 405 && isDocumented('GET', path) ? 'GET' : request.method
    if (!isDocumented(method, path)) return payload
    if (typeof payload !== 'string' && payload !== null && payload !== undefined && !Buffer.isBuffer(payload)) return payload
    seen.checked++
    const body = payload === null || payload === undefined ? '' : payload.toString()
    const violation = openApiViolation(method, path, reply.statusCode, reply.getHeader('content-type'), body)
    if (violation !== undefined) violations.push(violation)
    return payload
  })
  function report (): void {
    if (violations.length > 0) throw new Error(`responses outside openapi.yaml:\n${[...new Set(violations)].join('\n')}`)
  }
  return seen
}

/** Asserts a problem+json body with the given status and code, and no leaked internals. */
export function assertProblem (
  t: Test,
  response: LightMyRequestResponse,
  status: number,
  code: string
): Record<string, unknown> {
  t.equal(response.statusCode, status, `status ${status}`)
  t.match(String(response.headers['content-type']), /^application\/problem\+json/, 'problem+json content type')
  const body = json(response)
  t.equal(body.code, code, `code ${code}`)
  t.equal(body.status, status, 'status member equals the HTTP status')
  t.equal(body.type, `urn:tokenmint:problem:${code}`)
  t.match(body, { title: String, detail: String })
  t.notMatch(response.body, /FAST_JWT|FST_|Mongo|stack|at \w+ \(|node_modules/, 'no internals leak')
  return body
}

/**
 * Empties the given Redis database for a test and returns false, or returns why the test must
 * skip (printed, so a machine without Redis still passes `npm test` and says what it left out).
 */
/** Whether a Redis answers at `url` (and, when it does, its database is emptied for the test). */
export async function redisReachable (url: string): Promise<boolean> {
  const { Redis } = await import('ioredis')
  const probe = new Redis(url, { lazyConnect: true, connectTimeout: 500, maxRetriesPerRequest: 0, retryStrategy: () => null })
  probe.on('error', () => {})
  try {
    await probe.connect()
    await probe.flushdb()
    return true
  } catch {
    return false
  } finally {
    probe.disconnect()
  }
}

export async function redisSkipReason (url: string, what: string): Promise<string | false> {
  if (await redisReachable(url)) return false
  const reason = `Redis is not reachable at ${new URL(url).host}; ${what} needs it`
  process.stdout.write(`# skipping: ${reason}\n`)
  return reason
}

/** Polls /health/ready until it answers 200 (a MongoDB-backed app connects and creates its indexes in the background). */
export async function waitUntilReady (app: FastifyInstance, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while ((await app.inject({ url: '/health/ready' })).statusCode !== 200) {
    if (Date.now() > deadline) throw new Error('the app did not become ready')
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

/** Builds the app exactly like build(), with the production logger writing into an array. */
export async function appWithLogs (t: Pick<Test, 'teardown'>, env: Record<string, string> = {}, store?: Store): Promise<{ fastify: FastifyInstance, lines: Array<Record<string, unknown>> }> {
  const lines: Array<Record<string, unknown>> = []
  const config = testConfig({ LOG_LEVEL: 'info', ...env })
  const options = serverOptions(config)
  const stream = new Writable({
    write (chunk: Buffer, _encoding, done) {
      lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>)
      done()
    }
  })
  const fastify = Fastify({ ...options, logger: { ...(options.logger as object), stream } })
  await fastify.register(fp(app, { name: 'tokenmint' }), store === undefined ? { config } : { config, store })
  const responses = checkEveryResponse(fastify)
  t.teardown(async () => {
    await fastify.close()
    responses.report()
  })
  return { fastify, lines }
}
