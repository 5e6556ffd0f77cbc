import { test } from 'tap'
import { assertProblem, buildTestApp, testConfig } from '../helper.js'

const APP = 'https://app.example.com'
const preflight = (origin: string, method = 'POST'): { method: 'OPTIONS', url: string, headers: Record<string, string> } => ({
  method: 'OPTIONS',
  url: '/v1/auth/login',
  headers: { origin, 'access-control-request-method': method, 'access-control-request-headers': 'content-type' }
})

test('CORS: a preflight from an allowed origin succeeds, from any other origin it is refused', async (t) => {
  const app = await buildTestApp(t, { env: { CORS_ORIGINS: `${APP},http://localhost:5173` } })
  const allowed = await app.inject(preflight(APP))
  t.equal(allowed.statusCode, 204)
  t.equal(allowed.headers['access-control-allow-origin'], APP)
  t.match(String(allowed.headers['access-control-allow-methods']), /POST/)
  t.match(String(allowed.headers['access-control-allow-headers']), /content-type/)
  t.equal(allowed.headers['access-control-max-age'], '600')
  t.equal(allowed.headers['access-control-allow-credentials'], undefined, 'no cookies: bearer tokens only')

  const other = await app.inject(preflight('https://evil.example.net'))
  assertProblem(t, other, 403, 'origin_not_allowed')
  t.equal(other.headers['access-control-allow-origin'], undefined)
  assertProblem(t, await app.inject(preflight(`${APP}.evil.example.net`)), 403, 'origin_not_allowed')

  const login = await app.inject({ method: 'POST', url: '/v1/auth/login', headers: { origin: APP }, payload: { username: 'nobody', password: 'whatever it is' } })
  t.equal(login.statusCode, 401)
  t.equal(login.headers['access-control-allow-origin'], APP, 'the actual request carries the header too, errors included')
  t.match(String(login.headers['access-control-expose-headers']), /x-request-id/)
  const foreign = await app.inject({ method: 'POST', url: '/v1/auth/login', headers: { origin: 'https://evil.example.net' }, payload: { username: 'nobody', password: 'whatever it is' } })
  t.equal(foreign.headers['access-control-allow-origin'], undefined, 'a browser will not hand the answer to another origin')
})

test('CORS is off by default: no headers, and a preflight is 404 like any unknown route', async (t) => {
  const app = await buildTestApp(t)
  assertProblem(t, await app.inject(preflight(APP)), 404, 'not_found')
  const login = await app.inject({ method: 'POST', url: '/v1/auth/login', headers: { origin: APP }, payload: { username: 'nobody', password: 'whatever it is' } })
  t.equal(login.headers['access-control-allow-origin'], undefined)
})

test('CORS_ORIGINS takes exact origins only', async (t) => {
  for (const bad of ['*', 'https://app.example.com/', 'https://app.example.com/path', 'app.example.com', 'ftp://x.example.com']) {
    t.throws(() => testConfig({ CORS_ORIGINS: bad }), /CORS_ORIGINS: .* is not an origin/, bad)
  }
  t.same(testConfig({ CORS_ORIGINS: 'https://a.example.com, http://localhost:5173' }).corsOrigins, ['https://a.example.com', 'http://localhost:5173'])
})
