import { test } from 'tap'
import { createHash } from 'node:crypto'
import { jwtVerify } from 'jose'
import { createMemoryStore } from '../../plugins/store/memory.js'
import { StoreUnavailableError } from '../../lib/store.js'
import type { Store } from '../../lib/store.js'
import { API_KEY, OTHER_API_KEY, assertMatchesOpenApi, assertProblem, buildTestApp, decodeJwt, json, testConfig } from '../helper.js'

const KEY = { 'x-api-key': API_KEY }
// Most tests issue several tokens; the default 1 per second is tested on its own below.
const MANY = { APPVERIFY_RATE_LIMIT: '1000 per second' }
const KEY_ID = createHash('sha256').update(API_KEY).digest('hex').slice(0, 12)
const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/

test('GET /v1/token/{phone} answers the bare JWT as text/plain, exactly the tutorial\'s token', async (t) => {
  const config = testConfig({ ...MANY, APPVERIFY_CUSTOMER_ID: 'CUST-42' })
  const app = await buildTestApp(t, { config })
  const before = Math.floor(Date.now() / 1000)
  const response = await app.inject({ url: '/v1/token/15551234567', headers: KEY })
  const after = Math.floor(Date.now() / 1000)
  t.equal(response.statusCode, 200)
  t.equal(response.headers['content-type'], 'text/plain; charset=utf-8')
  t.equal(response.headers.allow, 'GET')
  t.equal(response.headers['cache-control'], 'no-store')
  assertMatchesOpenApi(t, response, 'GET', '/v1/token/{phone_number}')
  const token = response.body
  t.match(token, /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/, 'the body is only the compact JWT')
  t.equal(Buffer.from(token.split('.')[0] ?? '', 'base64url').toString('utf8'), '{"alg":"HS256","typ":"JWT"}', 'header bytes are exact')

  const key = Buffer.from(config.appVerify.apiKey, 'base64')
  const { payload, protectedHeader } = await jwtVerify(token, key, { algorithms: ['HS256'], issuer: 'CUST-42' })
  t.same(protectedHeader, { alg: 'HS256', typ: 'JWT' })
  t.same(Object.keys(payload), ['iss', 'iat', 'exp', 'phn', 'xid'], 'claims are exactly the tutorial\'s')
  t.equal(payload.iss, 'CUST-42')
  t.equal(payload.phn, '15551234567', 'phn is the number as given')
  t.match(payload.xid, UUID_V4, 'a fresh UUID v4 xid')
  t.equal((payload.exp as number) - (payload.iat as number), 90)
  t.ok((payload.iat as number) >= before - 10 && (payload.iat as number) <= after - 10, 'iat = now − 10')

  const record = await app.store.transactions.find(String(payload.xid))
  t.match(record, {
    xid: payload.xid,
    phone_number: '+15551234567',
    token_sha256: createHash('sha256').update(token).digest('hex'),
    issued_to: `client:${KEY_ID}`
  })
  t.equal(record?.expires_at.getTime(), (payload.exp as number) * 1000)
  t.notMatch(JSON.stringify(record), token, 'the raw token is not stored')
})

test('GET /v1/token/{phone}/{xid} with Accept: application/json answers JSON; the xid is the path\'s', async (t) => {
  const config = testConfig(MANY)
  const app = await buildTestApp(t, { config })
  const response = await app.inject({ url: '/v1/token/%2B15551234567/order-42', headers: { ...KEY, accept: 'application/json' } })
  t.equal(response.statusCode, 200)
  t.match(response.headers['content-type'], /^application\/json/)
  t.equal(response.headers.allow, 'GET')
  assertMatchesOpenApi(t, response, 'GET', '/v1/token/{phone_number}/{xid}')
  const body = json(response)
  t.same(Object.keys(body).sort(), ['expires_at', 'phone_number', 'token', 'xid'])
  t.equal(body.xid, 'order-42')
  t.equal(body.phone_number, '+15551234567')
  const { payload } = await jwtVerify(String(body.token), Buffer.from(config.appVerify.apiKey, 'base64'))
  t.equal(payload.xid, 'order-42')
  t.equal(payload.phn, '+15551234567')
  t.equal(body.expires_at, new Date((payload.exp as number) * 1000).toISOString())

  // A raw "+" in a path is a plus, not a space.
  const raw = await app.inject({ url: '/v1/token/+15551234567/order-43', headers: KEY })
  t.equal(raw.statusCode, 200)
  t.equal(decodeJwt(raw.body).payload.phn, '+15551234567')
  // The tutorial's clients send */* or nothing: text/plain.
  for (const accept of ['*/*', 'text/plain', 'application/json, text/plain, */*']) {
    const text = await app.inject({ url: `/v1/token/15551234567/accept-${accept.length}`, headers: { ...KEY, accept } })
    t.equal(text.headers['content-type'], 'text/plain; charset=utf-8', accept)
  }
})

test('APPVERIFY_TOKEN_TTL and APPVERIFY_BACKDATE shape iat and exp', async (t) => {
  const app = await buildTestApp(t, { env: { ...MANY, APPVERIFY_TOKEN_TTL: '300', APPVERIFY_BACKDATE: '0' } })
  const now = Math.floor(Date.now() / 1000)
  const { payload } = decodeJwt((await app.inject({ url: '/v1/token/15551234567', headers: KEY })).body)
  t.equal((payload.exp as number) - (payload.iat as number), 300)
  t.ok(Math.abs((payload.iat as number) - now) <= 1)
})

test('a Bearer access token may issue (recorded as its sub); App Verify and access tokens never pass as each other', async (t) => {
  const config = testConfig(MANY)
  const app = await buildTestApp(t, { config })
  const access = json(await app.inject({ method: 'POST', url: '/gen-jwt', headers: KEY, payload: { instance_id: 'dev-1' } }))
  const accessToken = String(access.token)
  const response = await app.inject({ url: '/v1/token/15551234567/by-bearer', headers: { authorization: `Bearer ${accessToken}`, 'x-instance-id': 'dev-1' } })
  t.equal(response.statusCode, 200)
  t.equal((await app.store.transactions.find('by-bearer'))?.issued_to, 'instance:dev-1')

  const appVerifyToken = response.body
  const asBearer = await app.inject({ url: '/v1/me', headers: { authorization: `Bearer ${appVerifyToken}` } })
  assertProblem(t, asBearer, 401, 'token_invalid')
  const onTokenRoute = await app.inject({ url: '/v1/token/15551234567/again', headers: { authorization: `Bearer ${appVerifyToken}` } })
  assertProblem(t, onTokenRoute, 401, 'token_invalid')
  assertMatchesOpenApi(t, onTokenRoute, 'GET', '/v1/token/{phone_number}/{xid}')

  const appVerifyKey = Buffer.from(config.appVerify.apiKey, 'base64')
  t.not(appVerifyKey.toString('hex'), config.jwt.secret.toString('hex'), 'separate keys')
  await t.rejects(jwtVerify(accessToken, appVerifyKey), 'an access token does not verify with the App Verify key')
  t.not(decodeJwt(accessToken).payload.iss, decodeJwt(appVerifyToken).payload.iss, 'separate issuers')
})

test('without credentials the token routes are 401; APPVERIFY_PUBLIC=true opens them', async (t) => {
  const app = await buildTestApp(t, { env: MANY })
  const missing = await app.inject({ url: '/v1/token/15551234567' })
  assertProblem(t, missing, 401, 'missing_token')
  assertMatchesOpenApi(t, missing, 'GET', '/v1/token/{phone_number}')
  assertProblem(t, await app.inject({ url: '/v1/token/15551234567', headers: { 'x-api-key': 'wrong-key-wrong-key' } }), 401, 'invalid_api_key')
  t.equal(await app.store.transactions.listByPhone('+15551234567', { limit: 5 }).then((p) => p.items.length), 0, 'nothing recorded')

  const open = await buildTestApp(t, { env: { ...MANY, APPVERIFY_PUBLIC: 'true' } })
  const response = await open.inject({ url: '/v1/token/15551234567/open-1' })
  t.equal(response.statusCode, 200)
  t.equal((await open.store.transactions.find('open-1'))?.issued_to, 'public')
  t.same(open.swagger().paths?.['/v1/token/{phone_number}']?.get?.security, [], 'documented as open')
})

test('bad phone numbers are 400 invalid_phone_number and issue nothing', async (t) => {
  const app = await buildTestApp(t, { env: MANY })
  const bad = [
    'abc', '1555123456a', '555', '5551234567', '+1555', '+155512345678901234', '25551234567',
    '%EF%BC%91%EF%BC%95%EF%BC%95%EF%BC%95%EF%BC%91%EF%BC%92%EF%BC%93%EF%BC%94%EF%BC%95%EF%BC%96%EF%BC%97', // full-width digits
    '%2B1%D9%A5%D9%A5%D9%A5%D9%A1%D9%A2%D9%A3%D9%A4%D9%A5%D9%A6%D9%A7', // Arabic-Indic digits
    '%20%2B15551234567', '%2B15551234567%20', '%2B1%20555%201234567', '1555%201234567', '%2B1555-123-4567',
    '%2B%2B15551234567', '%2B0123456789', '15551234567%0A', '', 'x'.repeat(300), '1'.repeat(300)
  ]
  for (const phone of bad) {
    for (const url of [`/v1/token/${phone}`, `/v1/token/${phone}/good-xid`]) {
      const response = await app.inject({ url, headers: KEY })
      assertProblem(t, response, 400, 'invalid_phone_number')
      t.comment(url.slice(0, 60))
    }
  }
  assertMatchesOpenApi(t, await app.inject({ url: '/v1/token/abc', headers: KEY }), 'GET', '/v1/token/{phone_number}')
  t.equal(await app.store.transactions.find('good-xid'), null)
})

test('bad xids are 400 invalid_xid; a path with too many segments is 404', async (t) => {
  const app = await buildTestApp(t, { env: MANY })
  for (const xid of ['a%20b', 'x'.repeat(129), 'x'.repeat(300), '%C3%B1', 'a%2Fb', '%24gt', 'a%00b', '%E2%80%AE']) {
    const response = await app.inject({ url: `/v1/token/15551234567/${xid}`, headers: KEY })
    assertProblem(t, response, 400, 'invalid_xid')
    assertMatchesOpenApi(t, response, 'GET', '/v1/token/{phone_number}/{xid}')
  }
  assertProblem(t, await app.inject({ url: '/v1/token/15551234567/a/b', headers: KEY }), 404, 'not_found')
  assertProblem(t, await app.inject({ url: '/v1/token/15551234567/a/b' }), 401, 'missing_token')
  t.equal((await app.store.transactions.listByPhone('+15551234567', { limit: 5 })).items.length, 0)
})

test('an xid already issued is 409 xid_exists and the first record stays', async (t) => {
  const app = await buildTestApp(t, { env: MANY })
  const first = await app.inject({ url: '/v1/token/15551234567/dup-1', headers: KEY })
  t.equal(first.statusCode, 200)
  const second = await app.inject({ url: '/v1/token/15557654321/dup-1', headers: { 'x-api-key': OTHER_API_KEY } })
  assertProblem(t, second, 409, 'xid_exists')
  assertMatchesOpenApi(t, second, 'GET', '/v1/token/{phone_number}/{xid}')
  t.notMatch(second.body, /eyJ/, 'no token in the conflict')
  const record = await app.store.transactions.find('dup-1')
  t.equal(record?.phone_number, '+15551234567')
  t.equal(record?.token_sha256, createHash('sha256').update(first.body).digest('hex'))
})

test('two concurrent requests with one xid: one 200, one 409', async (t) => {
  const app = await buildTestApp(t, { env: MANY })
  for (let round = 0; round < 5; round++) {
    const responses = await Promise.all([1, 2].map(() => app.inject({ url: `/v1/token/15551234567/race-${round}`, headers: KEY })))
    t.same(responses.map((r) => r.statusCode).sort(), [200, 409], `round ${round}`)
  }
})

test('1 request per second per client by default: the second is 429 with Retry-After, on either path', async (t) => {
  const app = await buildTestApp(t)
  const first = await app.inject({ url: '/v1/token/15551234567', headers: KEY })
  t.equal(first.statusCode, 200)
  for (const url of ['/v1/token/15551234567', '/v1/token/15551234567/rl-1']) {
    const limited = await app.inject({ url, headers: KEY })
    assertProblem(t, limited, 429, 'rate_limited')
    t.match(limited.headers['retry-after'], /^[1-9][0-9]*$/)
    assertMatchesOpenApi(t, limited, 'GET', url === '/v1/token/15551234567' ? '/v1/token/{phone_number}' : '/v1/token/{phone_number}/{xid}')
  }
  t.equal(await app.store.transactions.find('rl-1'), null, 'a limited request issues nothing')
  const sameClientElsewhere = await app.inject({ url: '/v1/token/15551234567', headers: KEY, remoteAddress: '192.0.2.7' })
  assertProblem(t, sameClientElsewhere, 429, 'rate_limited') // the budget is the caller's, wherever it calls from
  t.match(json(sameClientElsewhere), { limit: { budget: 'appverify', max: 1, window_seconds: 1 } }, 'the answer names the budget')
  const otherClient = await app.inject({ url: '/v1/token/15551234567', headers: { 'x-api-key': OTHER_API_KEY } })
  t.equal(otherClient.statusCode, 200, 'another API client on the same address has its own budget')
  // Other routes keep the global budget.
  t.equal((await app.inject({ url: '/health/live' })).statusCode, 200)
})

test('a store failure while recording: 503 with Retry-After and no token', async (t) => {
  const memory = createMemoryStore()
  t.teardown(() => memory.close())
  const store: Store = {
    ...memory,
    transactions: {
      ...memory.transactions,
      record: async () => { throw new StoreUnavailableError() }
    }
  }
  const app = await buildTestApp(t, { env: MANY, store })
  for (const headers of [KEY, { ...KEY, accept: 'application/json' }]) {
    const response = await app.inject({ url: '/v1/token/15551234567/down-1', headers })
    assertProblem(t, response, 503, 'store_unavailable')
    t.equal(response.headers['retry-after'], '5')
    t.notMatch(response.body, /eyJ/, 'no token in the body')
    t.notOk(response.headers.allow, 'not the success headers')
    assertMatchesOpenApi(t, response, 'GET', '/v1/token/{phone_number}/{xid}')
  }
})

test('other methods are 405 with Allow: GET (HEAD too: it would issue a token nobody sees)', async (t) => {
  const app = await buildTestApp(t, { env: MANY })
  for (const method of ['POST', 'PUT', 'PATCH', 'DELETE', 'HEAD'] as const) {
    for (const url of ['/v1/token/15551234567', '/v1/token/15551234567/m-1']) {
      const response = await app.inject({ method, url, headers: KEY })
      t.equal(response.statusCode, 405, `${method} ${url}`)
      t.equal(response.headers.allow, 'GET')
      if (method !== 'HEAD') assertProblem(t, response, 405, 'method_not_allowed')
    }
  }
  t.equal(await app.store.transactions.find('m-1'), null)
})
