import { test } from 'tap'
import { createMemoryStore } from '../../plugins/store/memory.js'
import { StoreUnavailableError } from '../../lib/store.js'
import type { Store } from '../../lib/store.js'
import { API_KEY, assertMatchesOpenApi, assertProblem, buildTestApp, decodeJwt, json } from '../helper.js'

const KEY = { 'x-api-key': API_KEY }
const MANY = { APPVERIFY_RATE_LIMIT: '1000 per second' }

interface Item { xid: string, phone_number: string, issued_at: string, expires_at: string, status: string }

test('GET /v1/transactions/{xid} answers the issued record', async (t) => {
  const app = await buildTestApp(t, { env: MANY })
  const issued = await app.inject({ url: '/v1/token/15551234567/status-1', headers: KEY })
  const { payload } = decodeJwt(issued.body)
  const response = await app.inject({ url: '/v1/transactions/status-1', headers: KEY })
  t.equal(response.statusCode, 200)
  assertMatchesOpenApi(t, response, 'GET', '/v1/transactions/{xid}')
  const body = json<Item>(response)
  t.same(Object.keys(body).sort(), ['expires_at', 'issued_at', 'phone_number', 'status', 'xid'], 'no hash, no issuer, no token')
  t.equal(body.xid, 'status-1')
  t.equal(body.phone_number, '+15551234567')
  t.equal(body.status, 'active')
  t.equal(body.expires_at, new Date((payload.exp as number) * 1000).toISOString())
  const issuedAt = new Date(body.issued_at).getTime()
  t.ok(issuedAt >= ((payload.iat as number) + 10) * 1000 && issuedAt < ((payload.iat as number) + 11) * 1000, 'issued_at is the real issue time, iat + backdate')
})

test('an expired token\'s transaction reads as expired', async (t) => {
  const app = await buildTestApp(t)
  const now = Date.now()
  await app.store.transactions.record({
    xid: 'old-1',
    phone_number: '+15551234567',
    token_sha256: 'c'.repeat(64),
    issued_at: new Date(now - 200_000),
    expires_at: new Date(now - 100_000),
    issued_to: 'public'
  })
  const response = await app.inject({ url: '/v1/transactions/old-1', headers: KEY })
  t.equal(json(response).status, 'expired')
  assertMatchesOpenApi(t, response, 'GET', '/v1/transactions/{xid}')
})

test('unknown xid is 404 not_found; a malformed one 400 invalid_xid; an API key is required', async (t) => {
  const app = await buildTestApp(t)
  const missing = await app.inject({ url: '/v1/transactions/no-such-xid', headers: KEY })
  assertProblem(t, missing, 404, 'not_found')
  assertMatchesOpenApi(t, missing, 'GET', '/v1/transactions/{xid}')
  for (const xid of ['a%20b', 'x'.repeat(129), 'x'.repeat(300), 'a%2Fb', 'a/b', '%C3%B1']) {
    const response = await app.inject({ url: `/v1/transactions/${xid}`, headers: KEY })
    assertProblem(t, response, 400, 'invalid_xid')
    assertMatchesOpenApi(t, response, 'GET', '/v1/transactions/{xid}')
  }
  const noKey = await app.inject({ url: '/v1/transactions/no-such-xid' })
  assertProblem(t, noKey, 401, 'invalid_api_key')
  assertMatchesOpenApi(t, noKey, 'GET', '/v1/transactions/{xid}')
  assertProblem(t, await app.inject({ url: '/v1/transactions/x'.padEnd(300, 'x') }), 401, 'invalid_api_key')
  const access = json(await app.inject({ method: 'POST', url: '/gen-jwt', headers: KEY, payload: {} }))
  assertProblem(t, await app.inject({ url: '/v1/transactions/no-such-xid', headers: { authorization: `Bearer ${String(access.token)}` } }), 401, 'invalid_api_key')
  assertProblem(t, await app.inject({ url: '/v1/transactions?phone_number=15551234567' }), 401, 'invalid_api_key')
})

test('GET /v1/transactions?phone_number= lists a number\'s transactions newest first, paged by cursor', async (t) => {
  const app = await buildTestApp(t, { env: MANY })
  const forms = ['15551234567', '%2B15551234567', '+15551234567', '15551234567', '%2B15551234567']
  for (const [i, form] of forms.entries()) {
    t.equal((await app.inject({ url: `/v1/token/${form}/list-${i}`, headers: KEY })).statusCode, 200)
  }
  await app.inject({ url: '/v1/token/15557654321/other-number', headers: KEY })

  const expected = ['list-4', 'list-3', 'list-2', 'list-1', 'list-0']
  for (const query of ['phone_number=15551234567', 'phone_number=%2B15551234567', 'phone_number=+15551234567']) {
    const response = await app.inject({ url: `/v1/transactions?${query}`, headers: KEY })
    t.equal(response.statusCode, 200, query)
    assertMatchesOpenApi(t, response, 'GET', '/v1/transactions')
    const body = json<{ items: Item[], next_cursor?: string }>(response)
    t.same(body.items.map((i) => i.xid), expected, `${query}: every form of the number, newest first`)
    t.ok(body.items.every((i) => i.phone_number === '+15551234567' && i.status === 'active'))
    t.notOk('next_cursor' in body)
  }

  const seen: string[] = []
  let cursor: string | undefined
  let pages = 0
  do {
    const response = await app.inject({ url: `/v1/transactions?phone_number=15551234567&limit=2${cursor === undefined ? '' : `&cursor=${cursor}`}`, headers: KEY })
    t.equal(response.statusCode, 200)
    assertMatchesOpenApi(t, response, 'GET', '/v1/transactions')
    const body = json<{ items: Item[], next_cursor?: string }>(response)
    t.ok(body.items.length <= 2)
    seen.push(...body.items.map((i) => i.xid))
    cursor = body.next_cursor
    pages++
  } while (cursor !== undefined && pages < 10)
  t.same(seen, expected, 'the pages walk every transaction once')
  t.equal(pages, 3)

  const none = json<{ items: Item[] }>(await app.inject({ url: '/v1/transactions?phone_number=%2B442071838750', headers: KEY }))
  t.same(none, { items: [] })
})

test('bad list queries: 400 invalid_phone_number or invalid_request', async (t) => {
  const app = await buildTestApp(t)
  for (const phone of ['abc', '5551234567', '%201555123456', '%2015551234567', '1555%201234567', '%EF%BC%91%EF%BC%95%EF%BC%95%EF%BC%95%EF%BC%91%EF%BC%92%EF%BC%93%EF%BC%94%EF%BC%95%EF%BC%96%EF%BC%97', '']) {
    const response = await app.inject({ url: `/v1/transactions?phone_number=${phone}`, headers: KEY })
    assertProblem(t, response, 400, 'invalid_phone_number')
    assertMatchesOpenApi(t, response, 'GET', '/v1/transactions')
  }
  const requests = [
    '', 'limit=5', 'phone_number=15551234567&limit=0', 'phone_number=15551234567&limit=101', 'phone_number=15551234567&limit=abc',
    'phone_number=15551234567&limit=-1', 'phone_number=15551234567&limit=1000', 'phone_number=15551234567&cursor=garbage',
    'phone_number=15551234567&cursor=%21%21', `phone_number=15551234567&cursor=${'a'.repeat(600)}`,
    `phone_number=15551234567&cursor=${Buffer.from('[1,"a b"]').toString('base64url')}`,
    'phone_number=15551234567&phone_number=15557654321', 'phone_number=15551234567&extra=1',
    'phone_number[$ne]=x'
  ]
  for (const query of requests) {
    const response = await app.inject({ url: `/v1/transactions?${query}`, headers: KEY })
    assertProblem(t, response, 400, 'invalid_request')
    t.comment(query.slice(0, 60))
  }
})

test('a store outage is 503 store_unavailable on both reads', async (t) => {
  const memory = createMemoryStore()
  t.teardown(() => memory.close())
  const down = async (): Promise<never> => { throw new StoreUnavailableError() }
  const store: Store = {
    ...memory,
    transactions: { record: down, find: down, listByPhone: down }
  }
  const app = await buildTestApp(t, { store })
  for (const [url, path] of [['/v1/transactions/x-1', '/v1/transactions/{xid}'], ['/v1/transactions?phone_number=15551234567', '/v1/transactions']] as const) {
    const response = await app.inject({ url, headers: KEY })
    assertProblem(t, response, 503, 'store_unavailable')
    t.equal(response.headers['retry-after'], '5')
    assertMatchesOpenApi(t, response, 'GET', path)
  }
})
