import { readFileSync } from 'node:fs'
import { Writable } from 'node:stream'
import { fileURLToPath } from 'node:url'
import { Ajv } from 'ajv'
import { parse as parseYaml } from 'yaml'
import type { FastifyInstance, LightMyRequestResponse } from 'fastify'
import type { Test } from 'tap'
import { Redis } from 'ioredis'
import Fastify from 'fastify'
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
  return loadConfig({ API_KEYS: `${API_KEY},${OTHER_API_KEY}`, LOG_LEVEL: 'silent', ...env }, { secretsFile: null })
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
  t.teardown(() => app.close())
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

function openapiValidator (): Ajv {
  if (validator === undefined) {
    const document = parseYaml(readFileSync(openapiPath, 'utf8')) as Record<string, unknown>
    validator = new Ajv({ strict: false, allErrors: true, validateFormats: false })
    validator.addSchema(document, 'openapi')
  }
  return validator
}

function pointer (...segments: string[]): string {
  return segments.map((s) => s.replaceAll('~', '~0').replaceAll('/', '~1')).join('/')
}

/**
 * Asserts that a response matches what openapi.yaml documents for this operation and status:
 * the status is declared, the content type is the documented one, and the body validates.
 */
export function assertMatchesOpenApi (
  t: Test,
  response: LightMyRequestResponse,
  method: string,
  path: string
): void {
  const ajv = openapiValidator()
  const status = String(response.statusCode)
  const contentType = String(response.headers['content-type'] ?? '').split(';')[0] ?? ''
  const documented = ajv.getSchema(`openapi#/${pointer('paths', path, method.toLowerCase(), 'responses', status)}`)
  if (documented === undefined) {
    t.fail(`${method} ${path} does not document status ${status}`)
    return
  }
  if (response.statusCode === 204) {
    t.ok(true, `${method} ${path} ${status} is documented`)
    return
  }
  const ref = `openapi#/${pointer('paths', path, method.toLowerCase(), 'responses', status, 'content', contentType, 'schema')}`
  const validate = ajv.getSchema(ref)
  if (validate === undefined) {
    t.fail(`${method} ${path} ${status} does not document content type ${contentType}`)
    return
  }
  const body: unknown = contentType.includes('json') ? JSON.parse(response.body) : response.body
  const valid = validate(body)
  t.ok(valid, `${method} ${path} ${status} body matches openapi.yaml${valid ? '' : `: ${JSON.stringify(validate.errors)}`}`)
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
export async function redisSkipReason (url: string, what: string): Promise<string | false> {
  const probe = new Redis(url, { lazyConnect: true, connectTimeout: 500, maxRetriesPerRequest: 0, retryStrategy: () => null })
  probe.on('error', () => {})
  try {
    await probe.connect()
    await probe.flushdb()
    return false
  } catch {
    const reason = `Redis is not reachable at ${new URL(url).host}; ${what} needs it`
    process.stdout.write(`# skipping: ${reason}\n`)
    return reason
  } finally {
    probe.disconnect()
  }
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
  t.teardown(() => fastify.close())
  return { fastify, lines }
}
