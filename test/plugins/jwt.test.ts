import { test } from 'tap'
import { build } from '../../app.js'
import { API_KEY, assertProblem, json, testConfig } from '../helper.js'

// @fastify/jwt decorates request.jwtVerify and fastify.jwt.verify. A route written the usual
// @fastify/jwt way must get the service's full check, not a bare signature check.

test('request.jwtVerify() is the full check: a revoked, device-bound or forged token is refused', async (t) => {
  const app = await build({ config: testConfig() })
  t.teardown(() => app.close())
  app.get('/plugin-route', async (request) => await request.jwtVerify())
  await app.ready()

  const mint = async (payload: Record<string, string>): Promise<string> =>
    String(json(await app.inject({ method: 'POST', url: '/gen-jwt', headers: { 'x-api-key': API_KEY }, payload })).token)
  const call = async (token: string, headers: Record<string, string> = {}): Promise<Awaited<ReturnType<typeof app.inject>>> =>
    await app.inject({ url: '/plugin-route', headers: { authorization: `Bearer ${token}`, ...headers } })

  const token = await mint({})
  const accepted = await call(token)
  t.equal(accepted.statusCode, 200)
  t.match(json(accepted), { sub: /^client:/, iss: 'tokenmint' })

  const revoked = await app.inject({ method: 'POST', url: '/v1/tokens/revoke', headers: { 'x-api-key': API_KEY }, payload: { token } })
  t.equal(revoked.statusCode, 200)
  assertProblem(t, await call(token), 401, 'token_revoked')

  const bound = await mint({ instance_id: 'device-7' })
  assertProblem(t, await call(bound), 401, 'device_mismatch')
  t.equal((await call(bound, { 'x-instance-id': 'device-7' })).statusCode, 200)

  const [header, payload] = bound.split('.')
  const unsigned = `${Buffer.from(JSON.stringify({ alg: 'none', typ: 'at+jwt' })).toString('base64url')}.${payload ?? ''}.`
  const forgedTyp = `${Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(header ?? '', 'base64url').toString()), typ: 'JWT' })).toString('base64url')}.${payload ?? ''}.${bound.split('.')[2] ?? ''}`
  for (const bad of [unsigned, forgedTyp, 'not-a-token', `${token}x`]) {
    const answer = await call(bad, { 'x-instance-id': 'device-7' })
    t.equal(answer.statusCode, 401, `refused: ${bad.slice(0, 20)}`)
    t.match(String(answer.headers['content-type']), /^application\/problem\+json/)
  }
  assertProblem(t, await app.inject({ url: '/plugin-route' }), 401, 'missing_token')
})

test('fastify.jwt.verify, which cannot see revocations, is disabled', async (t) => {
  const app = await build({ config: testConfig() })
  t.teardown(() => app.close())
  await app.ready()
  const token = String(json(await app.inject({ method: 'POST', url: '/gen-jwt', headers: { 'x-api-key': API_KEY }, payload: {} })).token)
  t.throws(() => app.jwt.verify(token), /fastify\.jwt\.verify is disabled/)
  t.match(await app.tokens.verify(token), { jti: String })
})
