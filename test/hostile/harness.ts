import { request } from 'node:http'
import type { Test } from 'tap'
import type { FastifyInstance } from 'fastify'
import { buildTestApp } from '../helper.js'
import { createMemoryStore } from '../../plugins/store/memory.js'
import { StoreUnavailableError } from '../../lib/store.js'
import type { Store } from '../../lib/store.js'
import type { Env } from '../../lib/config.js'

export interface HostileRequest {
  method?: string
  path: string
  headers?: Record<string, string | string[]>
  /** Raw body bytes as sent; objects are JSON-encoded with an application/json content type. */
  body?: string | Buffer | object
}

export interface HostileCase {
  name: string
  request: HostileRequest
  /** Expected status (or any of several). */
  status: number | number[]
  /** Expected problem code (or any of several), for 4xx answers. */
  code?: string | string[]
}

export interface Answer {
  status: number
  headers: Record<string, string | string[] | undefined>
  body: string
}

export interface HostileTarget {
  app: FastifyInstance
  base: URL
  /** Number of writes the store accepted so far (every repository method that records something). */
  writes: () => number
}

const INTERNALS = /FAST_JWT|FST_|Mongo|MongoServer|ioredis|stack|at \w+ \(|node_modules|\/work\/|TypeError|SyntaxError|ReferenceError/

/** Wraps every repository method whose name records data, counting successful writes. */
export function countingStore (inner: Store): { store: Store, writes: () => number } {
  let writes = 0
  const wrap = <T extends object>(repository: T): T => new Proxy(repository, {
    get (target, property, receiver) {
      const value = Reflect.get(target, property, receiver) as unknown
      if (typeof value !== 'function' || !/^(record|create|insert|save|revoke|add|register|update|approve|resend|delete|remove|cancel)/i.test(String(property))) return value
      return async (...args: unknown[]) => {
        const result = await (value as (...a: unknown[]) => Promise<unknown>).apply(target, args)
        // A conditional update or delete that matched nothing (false / null) stored nothing.
        if (result !== false && result !== null) writes++
        return result
      }
    }
  })
  const store = new Proxy(inner, {
    get (target, property, receiver) {
      const value = Reflect.get(target, property, receiver) as unknown
      return value !== null && typeof value === 'object' ? wrap(value) : value
    }
  })
  return { store, writes: () => writes }
}

export interface FaultyStore {
  store: Store
  /** From now on, operations for which `which(repository, method)` is true reject with StoreUnavailableError. */
  fail: (which?: (repository: string, method: string) => boolean) => void
  heal: () => void
}

/** A store whose operations (ping included) can be made to reject as an unreachable database does. */
export function faultyStore (inner: Store): FaultyStore {
  let failing: ((repository: string, method: string) => boolean) | undefined
  const guard = (repository: string, method: string, value: (...a: unknown[]) => Promise<unknown>, target: object) => async (...args: unknown[]) => {
    if (failing?.(repository, method) === true) throw new StoreUnavailableError()
    return await value.apply(target, args)
  }
  const store = new Proxy(inner, {
    get (target, property, receiver) {
      const value = Reflect.get(target, property, receiver) as unknown
      if (property === 'ping') return guard('store', 'ping', value as () => Promise<unknown>, target)
      if (value === null || typeof value !== 'object') return value
      return new Proxy(value, {
        get (repository, method, r) {
          const fn = Reflect.get(repository, method, r) as unknown
          return typeof fn === 'function' ? guard(String(property), String(method), fn as () => Promise<unknown>, repository) : fn
        }
      })
    }
  })
  return { store, fail: (which = () => true) => { failing = which }, heal: () => { failing = undefined } }
}

/** The real app on a real loopback port, limits raised so every case reaches its route. */
export async function hostileTarget (t: Test, env: Env = {}, wrap: (store: Store) => Store = (store) => store): Promise<HostileTarget> {
  const counted = countingStore(wrap(createMemoryStore()))
  const app = await buildTestApp(t, { store: counted.store, env: { RATE_LIMIT_MAX: '100000', APPVERIFY_RATE_LIMIT: '100000 per second', SMS_CHECK_RATE_LIMIT: '100000 per second', ...env } })
  await app.listen({ port: 0, host: '127.0.0.1' })
  const { port } = app.server.address() as { port: number }
  return { app, base: new URL(`http://127.0.0.1:${port}`), writes: counted.writes }
}

/** Sends exactly what the case says over a socket, giving up after five seconds (a hang is a failure). */
export async function send (base: URL, hostile: HostileRequest): Promise<Answer> {
  let body: Buffer | undefined
  const headers: Record<string, string | string[]> = { ...hostile.headers }
  if (Buffer.isBuffer(hostile.body) || typeof hostile.body === 'string') body = Buffer.from(hostile.body)
  else if (hostile.body !== undefined) {
    body = Buffer.from(JSON.stringify(hostile.body))
    if (!Object.keys(headers).some((h) => h.toLowerCase() === 'content-type')) headers['content-type'] = 'application/json'
  }
  return await new Promise<Answer>((resolve, reject) => {
    const outgoing = request(new URL(hostile.path, base), { method: hostile.method ?? 'GET', headers, timeout: 5_000 }, (response) => {
      const chunks: Buffer[] = []
      response.on('data', (chunk: Buffer) => chunks.push(chunk))
      response.on('end', () => { resolve({ status: response.statusCode ?? 0, headers: response.headers, body: Buffer.concat(chunks).toString('utf8') }) })
      response.on('error', reject)
    })
    outgoing.on('timeout', () => { outgoing.destroy(new Error(`no answer within 5 s: ${hostile.method ?? 'GET'} ${hostile.path}`)) })
    outgoing.on('error', reject)
    outgoing.end(body)
  })
}

/** Runs every case: the expected 4xx problem, never a 5xx, never a hang, no internals, nothing stored. */
export async function runHostileCases (t: Test, target: HostileTarget, cases: HostileCase[]): Promise<void> {
  for (const hostile of cases) {
    const before = target.writes()
    const answer = await send(target.base, hostile.request)
    const statuses = Array.isArray(hostile.status) ? hostile.status : [hostile.status]
    t.ok(statuses.includes(answer.status), `${hostile.name}: status ${answer.status} is one of ${statuses.join('/')}`)
    t.ok(answer.status < 500, `${hostile.name}: no 5xx`)
    t.notMatch(answer.body, INTERNALS, `${hostile.name}: no internals in the body`)
    if (answer.status >= 400) {
      t.match(String(answer.headers['content-type']), /^application\/problem\+json/, `${hostile.name}: problem+json`)
      if (hostile.code !== undefined) {
        const codes = Array.isArray(hostile.code) ? hostile.code : [hostile.code]
        const code = (JSON.parse(answer.body) as { code?: string }).code ?? ''
        t.ok(codes.includes(code), `${hostile.name}: code ${code} is one of ${codes.join('/')}`)
      }
      t.equal(target.writes(), before, `${hostile.name}: nothing stored`)
    }
  }
}

export interface JsonRoute {
  method: string
  path: string
  headers: Record<string, string>
  /** A body the route accepts. */
  valid: Record<string, unknown>
  /** String fields that must not accept other types. */
  stringFields: string[]
  /** Problem code(s) the route answers for a body that fails validation. */
  invalidCode?: string | string[]
  invalidStatus?: number
  /** A field whose wrong types get their own code (POST /v1/verifications: recipient → invalid_phone_number, contract §0). */
  fieldCodes?: Record<string, string>
}

/** The body attacks every JSON route must refuse with a 4xx and without storing anything. */
export function bodyAttacks (route: JsonRoute): HostileCase[] {
  const cases: HostileCase[] = []
  const status = route.invalidStatus ?? 400
  const code = route.invalidCode ?? 'invalid_request'
  const at = (name: string, body: unknown, extra: Partial<HostileCase> = {}): HostileCase => ({
    name: `${route.method} ${route.path}: ${name}`,
    status,
    code,
    request: { method: route.method, path: route.path, headers: route.headers, body: body as object },
    ...extra
  })
  for (const field of route.stringFields) {
    for (const [label, value] of [
      ['a number', 12345678], ['an array', ['x']], ['an operator object', { $gt: '' }], ['$ne null', { $ne: null }],
      ['$regex', { $regex: '.*' }], ['null', null], ['a boolean', true], ['a nested object', { a: { b: { c: 'd' } } }]
    ] as const) {
      const fieldCode = route.fieldCodes?.[field]
      cases.push(at(`${field} as ${label}`, { ...route.valid, [field]: value }, fieldCode === undefined ? {} : { code: fieldCode }))
    }
  }
  cases.push(at('unknown property', { ...route.valid, admin: true }))
  for (const claim of ['sub', 'iss', 'exp', 'role', 'status']) cases.push(at(`mass assignment of ${claim}`, { ...route.valid, [claim]: 'x' }))
  cases.push(at('an array body', [route.valid]))
  const json = JSON.stringify(route.valid)
  const raw = (name: string, body: string, expected: Partial<HostileCase>): HostileCase => ({
    name: `${route.method} ${route.path}: ${name}`,
    status: 400,
    request: { method: route.method, path: route.path, headers: { ...route.headers, 'content-type': 'application/json' }, body },
    ...expected
  })
  cases.push(raw('__proto__ pollution', json.replace('{', '{"__proto__":{"admin":true},'), { code: 'invalid_request' }))
  cases.push(raw('constructor.prototype pollution', json.replace('{', '{"constructor":{"prototype":{"admin":true}},'), { code: 'invalid_request' }))
  cases.push(raw('nested __proto__', json.replace('{', '{"x":{"__proto__":{"admin":true}},'), { code: 'invalid_request' }))
  for (const [name, body] of [['truncated JSON', json.slice(0, -1)], ['trailing garbage', `${json}x`], ['single quotes', "{'a':'b'}"], ['NaN', '{"a":NaN}'], ['a lone comma', ',']] as const) {
    cases.push(raw(name, body, { code: 'malformed_json' }))
  }
  cases.push(raw('deeply nested arrays', `${'['.repeat(5000)}${']'.repeat(5000)}`, { status: [400], code: ['invalid_request', route.invalidCode ?? 'invalid_request'].flat() }))
  cases.push(raw('oversize body (17 KB)', JSON.stringify({ ...route.valid, pad: 'x'.repeat(17 * 1024) }), { status: 413, code: 'payload_too_large' }))
  for (const contentType of ['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/xml', 'application/jsonx']) {
    // RFC 7009/7662 take form bodies on these two (test/routes/oauth.test.ts covers them, OAuth errors included).
    if (contentType === 'application/x-www-form-urlencoded' && route.path.startsWith('/v1/tokens/')) continue
    cases.push({
      name: `${route.method} ${route.path}: content type ${contentType}`,
      status: 415,
      code: 'unsupported_media_type',
      request: { method: route.method, path: route.path, headers: { ...route.headers, 'content-type': contentType }, body: json }
    })
  }
  return cases
}
