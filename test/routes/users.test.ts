import { test } from 'tap'
import type { Test } from 'tap'
import type { FastifyInstance } from 'fastify'
import { API_KEY, assertMatchesOpenApi, assertProblem, buildTestApp, decodeJwt, json, waitUntilReady } from '../helper.js'
import { startStandin } from '../mongo-standin.js'

const PASSWORD = 'correct horse battery'

async function createUser (app: FastifyInstance, username: string, password = PASSWORD): Promise<Awaited<ReturnType<FastifyInstance['inject']>>> {
  return await app.inject({ method: 'POST', url: '/v1/users', headers: { 'x-api-key': API_KEY }, payload: { username, password } })
}

async function login (app: FastifyInstance, username: string, password: string, remoteAddress = '127.0.0.1'): Promise<Awaited<ReturnType<FastifyInstance['inject']>>> {
  return await app.inject({ method: 'POST', url: '/v1/auth/login', payload: { username, password }, remoteAddress })
}

test('create a user, log in, use the token; NFKC and case folding apply to both', async (t) => {
  const app = await buildTestApp(t)
  const created = await createUser(app, 'Alice', 'ﬁne passphrase')
  t.equal(created.statusCode, 201)
  assertMatchesOpenApi(t, created, 'POST', '/v1/users')
  const body = json(created)
  t.equal(body.username, 'alice')
  t.ok(Math.abs(new Date(String(body.created_at)).getTime() - Date.now()) < 5000)

  const stored = await app.store.users.find('alice')
  t.match(stored?.password_hash, /^\$scrypt\$ln=10,r=8,p=1\$[A-Za-z0-9_-]+\$[A-Za-z0-9_-]+$/, 'at the configured cost (PASSWORD_HASH_COST=10 in tests)')
  t.notMatch(stored?.password_hash, /passphrase/)

  const duplicate = await createUser(app, 'ＡＬＩＣＥ')
  assertProblem(t, duplicate, 409, 'user_exists')
  assertMatchesOpenApi(t, duplicate, 'POST', '/v1/users')

  // The ligature "ﬁ" is NFKC-equal to "fi".
  const ok = await login(app, 'ALICE', 'fine passphrase')
  t.equal(ok.statusCode, 200)
  t.equal(ok.headers['cache-control'], 'no-store')
  assertMatchesOpenApi(t, ok, 'POST', '/v1/auth/login')
  const issued = json(ok)
  t.equal(issued.token_type, 'Bearer')
  t.equal(issued.expires_in, 300)
  const { payload } = decodeJwt(String(issued.token))
  t.equal(payload.sub, 'user:alice')
  t.same(payload.amr, ['pwd'])
  t.equal(payload.uid, stored?.user_id)
  const me = await app.inject({ url: '/v1/me', headers: { authorization: `Bearer ${String(issued.token)}` } })
  t.equal(me.statusCode, 200)
  t.match(json(me), { sub: 'user:alice', amr: ['pwd'] })
})

test('bad usernames and passwords are 400s; the API key is required', async (t) => {
  const app = await buildTestApp(t)
  for (const username of ['ab', 'a b', 'x'.repeat(65), 'ali$ce', 'élan', '']) {
    const response = await createUser(app, username)
    assertProblem(t, response, 400, username === '' ? 'invalid_request' : 'invalid_username')
  }
  for (const password of ['short', 'x'.repeat(129), 'tab\there-and-more']) {
    assertProblem(t, await createUser(app, 'bob', password), 400, 'invalid_password')
  }
  t.equal((await createUser(app, 'bob', '🔑'.repeat(8))).statusCode, 201, 'eight code points are enough')
  const cases: unknown[] = [{ username: 'carol', password: 12345678 }, { username: 'carol' }, { username: 'carol', password: PASSWORD, admin: true }, { username: { $ne: '' }, password: PASSWORD }]
  for (const payload of cases) {
    assertProblem(t, await app.inject({ method: 'POST', url: '/v1/users', headers: { 'x-api-key': API_KEY }, payload: payload as object }), 400, 'invalid_request')
  }
  const unauthenticated = await app.inject({ method: 'POST', url: '/v1/users', payload: { username: 'carol', password: PASSWORD } })
  assertProblem(t, unauthenticated, 401, 'invalid_api_key')
  assertProblem(t, await app.inject({ method: 'DELETE', url: '/v1/users/bob' }), 401, 'invalid_api_key')
  t.equal(await app.store.users.find('carol'), null)
})

test('wrong password and unknown user get identical 401 bodies', async (t) => {
  const app = await buildTestApp(t)
  await createUser(app, 'alice')
  const wrong = await login(app, 'alice', 'not the password')
  const unknown = await login(app, 'mallory', 'not the password')
  const malformed = await login(app, 'x', 'short')
  for (const response of [wrong, unknown, malformed]) {
    assertProblem(t, response, 401, 'invalid_credentials')
    assertMatchesOpenApi(t, response, 'POST', '/v1/auth/login')
    t.equal(response.headers['www-authenticate'], undefined)
  }
  t.equal(wrong.body, unknown.body)
  t.equal(wrong.body, malformed.body)
  assertProblem(t, await app.inject({ method: 'POST', url: '/v1/auth/login', payload: { username: 'alice', password: 12345678 } }), 400, 'invalid_request')
})

test('repeated failures per username are throttled with 429 and Retry-After, even for the right password', async (t) => {
  const app = await buildTestApp(t)
  await createUser(app, 'alice')
  await createUser(app, 'bob')
  for (let i = 0; i < 5; i++) assertProblem(t, await login(app, 'alice', `wrong password ${i}`), 401, 'invalid_credentials')
  const limited = await login(app, 'alice', PASSWORD)
  assertProblem(t, limited, 429, 'too_many_attempts')
  assertMatchesOpenApi(t, limited, 'POST', '/v1/auth/login')
  const retryAfter = Number(limited.headers['retry-after'])
  t.ok(retryAfter > 800 && retryAfter <= 900, `Retry-After ${retryAfter} is the rest of the 15-minute window`)
  assertProblem(t, await login(app, 'ALICE', PASSWORD, '10.0.0.9'), 429, 'too_many_attempts')
  t.equal((await login(app, 'bob', PASSWORD)).statusCode, 200, 'another user from the same client is not affected')
})

/** 40 wrong passwords at once for one user: each attempt is counted before scrypt, so the limit holds. */
async function concurrentWrongLogins (t: Test, app: FastifyInstance): Promise<void> {
  await createUser(app, 'carol')
  const answers = await Promise.all(Array.from({ length: 40 }, (_, i) => login(app, 'carol', `wrong password ${i}`)))
  const statuses = answers.map((answer) => answer.statusCode)
  t.equal(statuses.filter((status) => status === 401).length, 5, 'exactly the 5 allowed attempts were checked')
  t.equal(statuses.filter((status) => status === 429).length, 35, 'the other 35 were refused before any password check')
  for (const answer of answers.filter((a) => a.statusCode === 429)) assertProblem(t, answer, 429, 'too_many_attempts')
  assertProblem(t, await login(app, 'carol', PASSWORD), 429, 'too_many_attempts')
}

test('40 concurrent wrong logins for one username: at most 5 are checked (memory store)', async (t) => {
  await concurrentWrongLogins(t, await buildTestApp(t))
})

test('40 concurrent wrong logins for one username: at most 5 are checked (MongoDB store over the wire)', async (t) => {
  const standin = await startStandin()
  t.teardown(() => standin.stop())
  const app = await buildTestApp(t, { env: { MONGODB_URL: standin.url } })
  await waitUntilReady(app)
  await concurrentWrongLogins(t, app)
  const windows = standin.collection('jwt_db', 'login_attempts').docs
  t.same(windows.map((window) => window.count).sort(), [5, 5], 'one window per username and per address, each stopped at its limit')
})

test('a success clears the username counter; per-client failures are throttled across usernames', async (t) => {
  const app = await buildTestApp(t)
  await createUser(app, 'alice')
  for (let i = 0; i < 4; i++) await login(app, 'alice', 'wrong password')
  t.equal((await login(app, 'alice', PASSWORD)).statusCode, 200)
  for (let i = 0; i < 4; i++) await login(app, 'alice', 'wrong password')
  t.equal((await login(app, 'alice', PASSWORD)).statusCode, 200, 'the counter started again after the success')

  // 8 failures above from 127.0.0.1; 12 more against unknown names reach the client limit of 20.
  for (let i = 0; i < 12; i++) assertProblem(t, await login(app, `nobody-${i}`, 'wrong password'), 401, 'invalid_credentials')
  assertProblem(t, await login(app, 'alice', PASSWORD), 429, 'too_many_attempts')
  t.equal((await login(app, 'alice', PASSWORD, '10.0.0.2')).statusCode, 200, 'another client is not affected')
})

test('deleting a user invalidates its tokens; a re-created user does not revive them', async (t) => {
  const app = await buildTestApp(t)
  await createUser(app, 'alice')
  const token = String(json(await login(app, 'alice', PASSWORD)).token)
  const auth = { authorization: `Bearer ${token}` }
  t.equal((await app.inject({ url: '/v1/me', headers: auth })).statusCode, 200)

  const deleted = await app.inject({ method: 'DELETE', url: '/v1/users/Alice', headers: { 'x-api-key': API_KEY } })
  t.equal(deleted.statusCode, 204)
  t.equal(deleted.body, '')
  assertMatchesOpenApi(t, deleted, 'DELETE', '/v1/users/{username}')
  const refused = await app.inject({ url: '/v1/me', headers: auth })
  assertProblem(t, refused, 401, 'token_revoked')
  t.equal(refused.headers['www-authenticate'], 'Bearer error="invalid_token"')
  assertProblem(t, await login(app, 'alice', PASSWORD), 401, 'invalid_credentials')

  const again = await app.inject({ method: 'DELETE', url: '/v1/users/alice', headers: { 'x-api-key': API_KEY } })
  assertProblem(t, again, 404, 'user_not_found')
  assertMatchesOpenApi(t, again, 'DELETE', '/v1/users/{username}')
  assertProblem(t, await app.inject({ method: 'DELETE', url: '/v1/users/a', headers: { 'x-api-key': API_KEY } }), 404, 'user_not_found')

  t.equal((await createUser(app, 'alice')).statusCode, 201)
  assertProblem(t, await app.inject({ url: '/v1/me', headers: auth }), 401, 'token_revoked')
  const fresh = String(json(await login(app, 'alice', PASSWORD)).token)
  t.equal((await app.inject({ url: '/v1/me', headers: { authorization: `Bearer ${fresh}` } })).statusCode, 200)
})

test('the default cost is scrypt 2^15, and a user hashed at another cost still logs in after it changes', async (t) => {
  const app = await buildTestApp(t, { env: { PASSWORD_HASH_COST: '15' } })
  t.equal((await app.inject({ method: 'POST', url: '/v1/users', headers: { 'x-api-key': API_KEY }, payload: { username: 'ivan', password: 'correct horse battery' } })).statusCode, 201)
  t.match((await app.store.users.find('ivan'))?.password_hash, /^\$scrypt\$ln=15,r=8,p=1\$/)
  const cheaper = await buildTestApp(t, { store: app.store, env: { PASSWORD_HASH_COST: '10' } })
  t.equal((await cheaper.inject({ method: 'POST', url: '/v1/auth/login', payload: { username: 'ivan', password: 'correct horse battery' } })).statusCode, 200, 'the hash carries its own cost')
})
