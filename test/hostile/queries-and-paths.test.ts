import { test } from 'tap'
import { API_KEY } from '../helper.js'
import { hostileTarget, runHostileCases, send } from './harness.js'
import type { HostileCase } from './harness.js'

const key = { 'x-api-key': API_KEY }
const b64url = (text: string): string => Buffer.from(text).toString('base64url')
const enc = encodeURIComponent

/** Unicode and encoding tricks that look like (or hide inside) a plain value. */
const TRICKS: Array<[string, (value: string) => string]> = [
  ['full-width digits and letters', (v) => enc(v.replace(/[0-9a-z]/g, (c) => String.fromCodePoint(c.codePointAt(0) as number + 0xfee0)))],
  ['Arabic-Indic digits', (v) => enc(v.replace(/[0-9]/g, (c) => String.fromCodePoint(0x0660 + Number(c))))],
  ['RTL override U+202E', (v) => enc(`\u202e${v}`)],
  ['zero-width joiner', (v) => enc(`${v.slice(0, 3)}\u200d${v.slice(3)}`)],
  ['NUL byte', (v) => `${enc(v)}%00`],
  ['dot-dot-slash', (v) => `..%2F..%2F${enc(v)}`],
  ['percent-encoded spaces', (v) => enc(`${v.slice(0, 4)} ${v.slice(4)}`)],
  ['emoji', (v) => enc(`${v}📞`)],
  ['Cyrillic homoglyph', (v) => enc(v.replace(/[a1]/, (c) => c === 'a' ? '\u0430' : '\u0406'))],
  ['operator object', () => enc('{"$ne":null}')],
  ['superscript digits', (v) => enc(v.replace(/[0-9]/g, (c) => '⁰¹²³⁴⁵⁶⁷⁸⁹'[Number(c)] as string))]
]

test('query-string injection on the list and check routes: 4xx, never 5xx, nothing stored', async (t) => {
  const target = await hostileTarget(t)
  const cases: HostileCase[] = []
  const check = (name: string, query: string): void => {
    cases.push({ name: `GET /v1/verifications?${name}`, status: 400, code: 'invalid_api_usage', request: { path: `/v1/verifications?${query}`, headers: key } })
  }
  check('auth_id[$ne]', 'auth_id[$ne]=x&code=123456')
  check('auth_id[]', 'auth_id[]=a&code=123456')
  check('two auth_ids', 'auth_id=a&auth_id=b&code=123456')
  check('code[$regex]', 'auth_id=a&code[$regex]=.*')
  check('code[$gt]', 'auth_id=a&code[$gt]=')
  check('two codes', 'auth_id=a&code=123456&code=654321')
  check('code full-width', `auth_id=a&code=${enc('１２３４５６')}`)
  check('code Arabic-Indic', `auth_id=a&code=${enc('١٢٣٤٥٦')}`)
  check('code with NUL', 'auth_id=a&code=123456%00')
  check('code empty', 'auth_id=a&code=')
  check('code missing', 'auth_id=a')
  check('auth_id missing', 'code=123456')
  check('auth_id empty', 'auth_id=&code=123456')
  check('auth_id 121 characters', `auth_id=${'a'.repeat(121)}&code=123456`)
  check('auth_id 8000 characters', `auth_id=${'a'.repeat(8000)}&code=123456`)
  check('unknown parameter', 'auth_id=a&code=123456&admin=true')
  check('__proto__ parameter', 'auth_id=a&code=123456&__proto__=x')
  check('__proto__[admin]', 'auth_id=a&code=123456&__proto__[admin]=1')
  check('constructor parameter', 'auth_id=a&code=123456&constructor=x')

  const list = (name: string, query: string, code: string | string[] = 'invalid_request'): void => {
    cases.push({ name: `GET /v1/transactions?${name}`, status: 400, code, request: { path: `/v1/transactions?${query}`, headers: key } })
  }
  const phone = 'phone_number=15551234567'
  list('phone_number[$gt]', 'phone_number[$gt]=')
  list('phone_number[$ne]', 'phone_number[$ne]=x')
  list('phone_number[$regex]', 'phone_number[$regex]=.*')
  list('two phone numbers', 'phone_number=15551234567&phone_number=15551234568')
  list('phone_number missing', 'limit=5')
  list('phone_number empty', 'phone_number=', 'invalid_phone_number')
  list('phone_number 8000 characters', `phone_number=${'1'.repeat(8000)}`, 'invalid_phone_number')
  for (const [label, trick] of TRICKS.filter(([label]) => label !== 'dot-dot-slash')) {
    list(`phone_number ${label}`, `phone_number=${trick('15551234567')}`, 'invalid_phone_number')
  }
  for (const limit of ['-1', '1e3', '0', '101', '1000', '1.5', '0x10', '', ' 5', enc('２'), 'NaN', 'Infinity']) list(`limit=${limit}`, `${phone}&limit=${enc(limit)}`)
  list('two limits', `${phone}&limit=5&limit=6`)
  list('limit[$gt]', `${phone}&limit[$gt]=0`)
  for (const [label, cursor] of [
    ['garbage', 'not a cursor!'],
    ['operator object', b64url('{"$gt":""}')],
    ['array with an operator', b64url('[1,{"$ne":null}]')],
    ['negative time', b64url('[-1,"x"]')],
    ['time beyond the Date range', b64url(`[${Number.MAX_SAFE_INTEGER},"x"]`)],
    ['float time', b64url('[1.5,"x"]')],
    ['bad xid', b64url('[1,"a/b"]')],
    ['three members', b64url('[1,"x",3]')],
    ['600 characters', 'A'.repeat(600)],
    ['empty', ''],
    ['base64 padding', `${b64url('[1,"x"]')}=`]
  ] as const) list(`cursor ${label}`, `${phone}&cursor=${enc(cursor)}`)
  list('cursor[$gt]', `${phone}&cursor[$gt]=`)
  list('two cursors', `${phone}&cursor=a&cursor=b`)
  list('unknown parameter', `${phone}&sort=-1`)

  await runHostileCases(t, target, cases)
  t.ok(cases.length >= 60, `${cases.length} query cases`)
})

test('unicode and encoding tricks in path parameters: 4xx, never 5xx, nothing stored or touched', async (t) => {
  const target = await hostileTarget(t)
  // Real records the tricks must not reach: a verification, a user and an App Verify transaction.
  t.equal((await send(target.base, { method: 'POST', path: '/v1/verifications', headers: key, body: { auth_id: 'real-auth-1', recipient: '+15551234567' } })).status, 201)
  t.equal((await send(target.base, { method: 'POST', path: '/v1/users', headers: key, body: { username: 'alice-path', password: 'correct horse battery' } })).status, 201)
  t.equal((await send(target.base, { path: '/v1/token/15551234567/order-1', headers: key })).status, 200)

  const cases: HostileCase[] = []
  for (const [label, trick] of TRICKS) {
    cases.push({ name: `GET /v1/token/{phone} ${label}`, status: 400, code: 'invalid_phone_number', request: { path: `/v1/token/${trick('15551234567')}`, headers: key } })
    cases.push({ name: `GET /v1/token/{phone}/{xid} phone ${label}`, status: 400, code: 'invalid_phone_number', request: { path: `/v1/token/${trick('15551234567')}/order-2`, headers: key } })
    cases.push({ name: `GET /v1/token/{phone}/{xid} xid ${label}`, status: 400, code: 'invalid_xid', request: { path: `/v1/token/15551234567/${trick('order-1')}`, headers: key } })
    cases.push({ name: `GET /v1/transactions/{xid} ${label}`, status: 400, code: 'invalid_xid', request: { path: `/v1/transactions/${trick('order-1')}`, headers: key } })
    // auth_id is free text (1..120 characters): a trick is simply another, unknown auth_id.
    cases.push({ name: `GET /v1/verifications/{auth_id} ${label}`, status: 404, code: 'unknown_auth_id', request: { path: `/v1/verifications/${trick('real-auth-1')}`, headers: key } })
    cases.push({ name: `DELETE /v1/verifications/{auth_id} ${label}`, status: 404, code: 'unknown_auth_id', request: { method: 'DELETE', path: `/v1/verifications/${trick('real-auth-1')}`, headers: key } })
    // Full-width letters fold to the real name under NFKC (tested below); a trick that changes nothing is no attack.
    if (label !== 'full-width digits and letters' && trick('alice-path') !== 'alice-path') {
      cases.push({ name: `DELETE /v1/users/{username} ${label}`, status: 404, code: 'user_not_found', request: { method: 'DELETE', path: `/v1/users/${trick('alice-path')}`, headers: key } })
    }
  }
  for (const [path, code] of [
    ['/v1/token/1555%ZZ1234567', 'invalid_request'],
    ['/v1/token/%', 'invalid_request'],
    [`/v1/token/${'1'.repeat(300)}`, 'invalid_phone_number'],
    [`/v1/token/15551234567/${'x'.repeat(129)}`, 'invalid_xid'],
    [`/v1/token/15551234567/${'x'.repeat(300)}`, 'invalid_xid'],
    ['/v1/token/15551234567/a%2Fb', 'invalid_xid'],
    [`/v1/transactions/${'x'.repeat(129)}`, 'invalid_xid'],
    [`/v1/transactions/${'x'.repeat(300)}`, 'invalid_xid'],
    ['/v1/transactions/a%2Fb', 'invalid_xid'],
    ['/v1/transactions/%E0%A4%A', 'invalid_request'],
    [`/v1/verifications/${'a'.repeat(121)}`, 'invalid_request'],
    ['/v1/verifications/%E0%A4%A', 'invalid_request'],
    [`/v1/users/${'a'.repeat(257)}`, ['invalid_request', 'not_found', 'uri_too_long']]
  ] as const) {
    cases.push({ name: `${path.startsWith('/v1/users') ? 'DELETE' : 'GET'} ${path.slice(0, 60)}`, status: [400, 404, 414], code: code as string | string[], request: { method: path.startsWith('/v1/users') ? 'DELETE' : 'GET', path, headers: key } })
  }
  // Beyond the router's 256-character parameter limit (routerOptions.maxParamLength): 414, still a problem.
  cases.push({ name: 'GET /v1/verifications/{300 characters}', status: [400, 414], code: ['invalid_request', 'uri_too_long'], request: { path: `/v1/verifications/${'a'.repeat(300)}`, headers: key } })

  await runHostileCases(t, target, cases)
  t.ok(cases.length >= 80, `${cases.length} path cases`)

  const status = await send(target.base, { path: '/v1/verifications/real-auth-1', headers: key })
  t.equal((JSON.parse(status.body) as { status: string }).status, 'pending', 'the real verification was not canceled by a look-alike')
  t.equal((await send(target.base, { path: '/v1/transactions/order-1', headers: key })).status, 200, 'the real transaction is still there')
  t.equal((await send(target.base, { method: 'POST', path: '/v1/auth/login', body: { username: 'alice-path', password: 'correct horse battery' } })).status, 200, 'the real user was not deleted by a look-alike')
})

test('unicode phone numbers in POST /v1/verifications bodies: 400 invalid_phone_number, nothing stored', async (t) => {
  const target = await hostileTarget(t)
  const cases: HostileCase[] = []
  const recipients: Array<[string, unknown]> = [
    ['full-width digits', '＋１５５５１２３４５６７'],
    ['full-width digits without plus', '１５５５１２３４５６７'],
    ['Arabic-Indic digits', '+١٥٥٥١٢٣٤٥٦٧'],
    ['Extended Arabic-Indic digits', '+۱۵۵۵۱۲۳۴۵۶۷'],
    ['Devanagari digits', '+१५५५१२३४५६७'],
    ['RTL override', '\u202e+15551234567'],
    ['LTR mark', '+1555\u200e1234567'],
    ['zero-width joiner', '+1555\u200d1234567'],
    ['zero-width space', '+1555\u200b1234567'],
    ['BOM', '\ufeff+15551234567'],
    ['NUL byte', '+15551234567\u0000'],
    ['trailing newline', '+15551234567\n'],
    ['emoji', '+1555123456📞'],
    ['mixed digit', '+1555123456７'],
    ['spaces', '+1 555 123 4567'],
    ['no-break spaces', '+1\u00a0555\u00a0123\u00a04567'],
    ['national format', '(555) 123-4567'],
    ['fullwidth plus', '＋15551234567'],
    ['double plus', '++15551234567'],
    ['00 prefix', '0015551234567'],
    ['plus zero', '+015551234567'],
    ['plus only', '+'],
    ['empty', ''],
    ['letters', '+1555CALLNOW'],
    ['tel: URI', 'tel:+15551234567'],
    ['float', 15551234567.5],
    ['negative number', -15551234567],
    ['10-digit number', 5551234567],
    ['unsafe integer', 1555123456700000000000],
    ['exponent number (16 digits)', 1e15],
    ['33 characters', `+1${'5'.repeat(31)}`]
  ]
  for (const [label, recipient] of recipients) {
    cases.push({
      name: `POST /v1/verifications recipient ${label}`,
      status: 400,
      code: 'invalid_phone_number',
      request: { method: 'POST', path: '/v1/verifications', headers: key, body: { auth_id: `phone-${label}`, recipient } }
    })
  }
  await runHostileCases(t, target, cases)
  t.ok(cases.length >= 30, `${cases.length} phone cases`)
  const fine = await send(target.base, { method: 'POST', path: '/v1/verifications', headers: key, body: { auth_id: 'phone-ok', recipient: 15551234567 } })
  t.equal(fine.status, 201, 'the 11-digit number as a JSON number is accepted (Flowroute)')
})

test('usernames are NFKC-normalised and lower-cased the same way by create, login and delete', async (t) => {
  const target = await hostileTarget(t)
  const password = 'correct horse battery'
  const post = async (path: string, username: string): Promise<{ status: number, body: Record<string, unknown> }> => {
    const answer = await send(target.base, { method: 'POST', path, headers: path === '/v1/users' ? key : {}, body: { username, password } })
    return { status: answer.status, body: JSON.parse(answer.body) as Record<string, unknown> }
  }
  const created = await post('/v1/users', 'ｕｓｅｒ-ＮＦＫＣ')
  t.equal(created.status, 201)
  t.equal(created.body.username, 'user-nfkc', 'full-width letters become ASCII, then lower case')
  for (const same of ['user-nfkc', 'USER-NFKC', 'ｕｓｅｒ-ｎｆｋｃ']) {
    const again = await post('/v1/users', same)
    t.equal(again.status, 409, `${same} is the same user`)
    t.equal(again.body.code, 'user_exists')
    t.equal((await post('/v1/auth/login', same)).status, 200, `${same} logs in as that user`)
  }
  // Homoglyphs are not folded by NFKC: they are refused on creation and never match the real user.
  for (const lookalike of ['usеr-nfkc', 'user\u200d-nfkc', '\u202euser-nfkc', 'user-nfkc📞']) {
    const refused = await post('/v1/users', lookalike)
    t.equal(refused.status, 400, `${JSON.stringify(lookalike)} cannot be created`)
    t.equal(refused.body.code, 'invalid_username')
    const login = await post('/v1/auth/login', lookalike)
    t.equal(login.status, 401, `${JSON.stringify(lookalike)} cannot log in`)
    t.equal(login.body.code, 'invalid_credentials')
    const removed = await send(target.base, { method: 'DELETE', path: `/v1/users/${enc(lookalike)}`, headers: key })
    t.equal(removed.status, 404, `${JSON.stringify(lookalike)} deletes nothing`)
  }
  // Ligatures and compatibility characters fold: "ﬁ" is "fi", the Kelvin sign is "k".
  const ligature = await post('/v1/users', 'ﬁle-\u212aeeper')
  t.equal(ligature.body.username, 'file-keeper')
  t.equal((await post('/v1/auth/login', 'file-keeper')).status, 200)

  const deleted = await send(target.base, { method: 'DELETE', path: `/v1/users/${enc('ＵＳＥＲ-nfkc')}`, headers: key })
  t.equal(deleted.status, 204, 'delete normalises the path parameter the same way')
  t.equal((await post('/v1/auth/login', 'user-nfkc')).status, 401, 'the user is gone')
})
