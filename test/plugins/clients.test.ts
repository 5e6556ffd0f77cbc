import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'tap'
import type { FastifyInstance } from 'fastify'
import { build } from '../../app.js'
import { ConfigError } from '../../lib/config.js'
import { clientsCommand } from '../../scripts/clients.js'
import { API_KEY, assertProblem, buildTestApp, decodeJwt, json, testConfig } from '../helper.js'

const secretOf = (output: string): string => output.trim().split('\n').at(-1) ?? ''
const mint = async (app: FastifyInstance, key: string): Promise<ReturnType<FastifyInstance['inject']> extends Promise<infer R> ? R : never> =>
  await app.inject({ method: 'POST', url: '/gen-jwt', headers: { 'x-api-key': key }, payload: {} })

/** Milliseconds until the status of minting with `key` becomes `status` (gives up after 3 s). */
async function msUntil (app: FastifyInstance, key: string, status: number): Promise<number> {
  const started = Date.now()
  while (Date.now() - started < 3_000) {
    if ((await mint(app, key)).statusCode === status) return Date.now() - started
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
  return Number.POSITIVE_INFINITY
}

test('API clients from a file: named, scoped tokens; disabled or rotated clients refused within a second, no restart', async (t) => {
  const file = join(t.testdir(), 'clients.yaml')
  const backend = secretOf(clientsCommand(['add', 'backend', '--name', 'EU backend', '--scopes', 'mint,verify', '--file', file], {}))
  t.match(backend, /^tm_backend_[A-Za-z0-9_-]{32}$/)
  t.notMatch(readFileSync(file, 'utf8'), backend, 'the file holds a hash, never the secret')
  const app = await buildTestApp(t, { env: { API_CLIENTS_FILE: file } })

  const minted = await mint(app, backend)
  t.equal(minted.statusCode, 200)
  t.match(decodeJwt(String(json(minted).token)).payload, { sub: 'client:backend', client_id: 'backend' }, 'the token names its client')
  assertProblem(t, await app.inject({ url: '/v1/token/15551234567', headers: { 'x-api-key': backend } }), 403, 'insufficient_scope')
  assertProblem(t, await app.inject({ method: 'POST', url: '/v1/users', headers: { 'x-api-key': backend }, payload: { username: 'x', password: 'correct horse battery' } }), 403, 'insufficient_scope')
  t.equal((await mint(app, API_KEY)).statusCode, 200, 'API_KEYS keep working beside the file')

  clientsCommand(['disable', 'backend', '--file', file], {})
  const disabled = await msUntil(app, backend, 401)
  t.ok(disabled < 1_000, `a disabled client is refused ${disabled} ms after the change`)
  clientsCommand(['enable', 'backend', '--file', file], {})
  t.ok(await msUntil(app, backend, 200) < 1_000, 'and accepted again once enabled')

  const rotated = secretOf(clientsCommand(['rotate', 'backend', '--file', file], {}))
  const old = await msUntil(app, backend, 401)
  t.ok(old < 1_000, `the old secret is refused ${old} ms after a rotation`)
  t.equal((await mint(app, rotated)).statusCode, 200, 'the new secret works')
  t.match(clientsCommand(['list', '--file', file], {}), /^backend\tenabled\tmint,verify\tdefault budget\tEU backend\n$/)
  t.notMatch(clientsCommand(['list', '--file', file], {}), rotated, 'list shows no secret')
})

test('a reload that fails keeps the clients as they were and says why; SIGHUP reloads too', async (t) => {
  const file = join(t.testdir(), 'clients.json')
  const secret = secretOf(clientsCommand(['add', 'app', '--file', file], {}))
  const app = await buildTestApp(t, { env: { API_CLIENTS_FILE: file } })
  const warnings: string[] = []
  const warn = app.log.warn.bind(app.log)
  app.log.warn = ((...args: unknown[]) => { warnings.push(JSON.stringify(args)); (warn as (...a: unknown[]) => void)(...args) }) as typeof app.log.warn
  const good = readFileSync(file, 'utf8')
  writeFileSync(file, '{ "clients": [ { "id": "app" ')
  await new Promise((resolve) => setTimeout(resolve, 300))
  t.equal((await mint(app, secret)).statusCode, 200, 'still served by the last good set')
  t.match(warnings.join('\n'), 'API clients file not reloaded: keeping the clients as they were')
  t.match(warnings.join('\n'), 'clients.json: is not valid JSON', 'with the reason')
  t.same(app.clients.reload(), { ok: false, reason: `${file}: is not valid JSON` })

  writeFileSync(file, good.replace('"enabled": true', '"enabled": false'))
  process.emit('SIGHUP')
  t.equal((await mint(app, secret)).statusCode, 401, 'SIGHUP read the file again')
})

test('a client\'s own budget, and tokens it may act on', async (t) => {
  const file = join(t.testdir(), 'clients.yaml')
  const small = secretOf(clientsCommand(['add', 'small', '--rate', '2 per minute', '--scopes', 'mint,tokens', '--file', file], {}))
  const other = secretOf(clientsCommand(['add', 'other', '--scopes', 'mint,tokens', '--file', file], {}))
  const app = await buildTestApp(t, { env: { API_CLIENTS_FILE: file } })
  const token = String(json(await mint(app, small)).token)
  t.equal((await mint(app, small)).statusCode, 200)
  const limited = await mint(app, small)
  assertProblem(t, limited, 429, 'rate_limited')
  t.match(json(limited), { limit: { budget: 'client', max: 2, window_seconds: 60 } })
  t.equal((await mint(app, other)).statusCode, 200, 'the other client has the default budget')

  const introspect = async (key: string): Promise<Record<string, unknown>> => json(await app.inject({ method: 'POST', url: '/v1/tokens/introspect', headers: { 'x-api-key': key }, payload: { token } }))
  t.same(await introspect(other), { active: false }, 'another client learns nothing of it')
  await app.inject({ method: 'POST', url: '/v1/tokens/revoke', headers: { 'x-api-key': other }, payload: { token } })
  t.match(await introspect(API_KEY), { active: true, client_id: 'small' }, 'nor can it revoke it; an admin client (API_KEYS) sees it')
  await app.inject({ method: 'POST', url: '/v1/tokens/revoke', headers: { 'x-api-key': API_KEY }, payload: { token } })
  t.same(await introspect(API_KEY), { active: false }, 'the admin revoked it')
})

test('a broken clients file stops the start, naming the entry', async (t) => {
  const dir = t.testdir({
    'bad-scope.yaml': 'clients:\n  - id: a\n    secret_sha256: "' + '0'.repeat(64) + '"\n    scopes: [everything]\n',
    'twice.yaml': 'clients:\n  - { id: a, secret_sha256: "' + '0'.repeat(64) + '", scopes: [mint] }\n  - { id: a, secret_sha256: "' + '1'.repeat(64) + '", scopes: [mint] }\n',
    'plain.yaml': 'clients:\n  - { id: a, secret: hunter2, scopes: [mint] }\n'
  })
  for (const [name, reason] of [['bad-scope.yaml', /client 1 \(a\): scopes must be a list of mint/], ['twice.yaml', /client 2 \(a\): the id is used twice/], ['plain.yaml', /secret_sha256 must be 64 lowercase hex/], ['missing.yaml', /cannot be read \(ENOENT\)/]] as const) {
    await t.rejects(build({ config: testConfig({ API_CLIENTS_FILE: join(dir, name) }) }), reason, name)
    await t.rejects(build({ config: testConfig({ API_CLIENTS_FILE: join(dir, name) }) }), ConfigError)
  }
  t.throws(() => clientsCommand(['add', 'Bad Id!', '--file', join(dir, 'new.yaml')], {}), /id must be/)
  t.throws(() => clientsCommand(['rotate', 'nobody', '--file', join(dir, 'new.yaml')], {}), /no client "nobody"/)
})
