import { test } from 'tap'
import * as oauth from 'oauth4webapi'
import { clientsCommand } from '../../scripts/clients.js'
import { apiKeyId } from '../../lib/api-keys.js'
import { API_KEY, appWithLogs, assertMatchesOpenApi, assertProblem, buildTestApp, json } from '../helper.js'
import { join } from 'node:path'
import { StoreUnavailableError } from '../../lib/store.js'
import type { Store } from '../../lib/store.js'
import { createMemoryStore } from '../../plugins/store/memory.js'

// oauth4webapi, unmodified, against a real port: discovery (RFC 8414), revocation (RFC 7009) and
// introspection (RFC 7662) with client_secret_basic.

test('oauth4webapi discovers the endpoints, introspects and revokes with client_secret_basic', async (t) => {
  const file = join(t.testdir(), 'clients.yaml')
  const secret = (clientsCommand(['add', 'backend', '--scopes', 'mint,tokens', '--file', file], {}).trim().split('\n').at(-1)) ?? ''
  const app = await buildTestApp(t, { env: { API_CLIENTS_FILE: file } })
  const base = await app.listen({ host: '127.0.0.1', port: 0 })
  const issuer = new URL(base)
  const options = { [oauth.allowInsecureRequests]: true }
  const as = await oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, { ...options, algorithm: 'oauth2' }))
  t.equal(as.revocation_endpoint, `${base}/v1/tokens/revoke`)
  t.equal(as.introspection_endpoint, `${base}/v1/tokens/introspect`)
  t.equal(as.jwks_uri, `${base}/.well-known/jwks.json`)

  const minted = await fetch(`${base}/gen-jwt`, { method: 'POST', headers: { 'x-api-key': secret, 'content-type': 'application/json' }, body: '{"instance_id":"d1"}' })
  const { token } = await minted.json() as { token: string }
  const client: oauth.Client = { client_id: 'backend' }
  const auth = oauth.ClientSecretBasic(secret)

  const active = await oauth.processIntrospectionResponse(as, client, await oauth.introspectionRequest(as, client, auth, token, options))
  t.match(active, { active: true, sub: 'instance:d1', client_id: 'backend', token_type: 'Bearer' })

  await oauth.processRevocationResponse(await oauth.revocationRequest(as, client, auth, token, options))
  const after = await oauth.processIntrospectionResponse(as, client, await oauth.introspectionRequest(as, client, auth, token, options))
  t.same(after, { active: false }, 'revoked')

  const wrong = oauth.ClientSecretBasic('not-the-secret')
  const refused = await oauth.introspectionRequest(as, client, wrong, token, options)
  t.equal(refused.status, 401)
  t.equal(refused.headers.get('www-authenticate'), 'Basic realm="tokenmint"')
  t.match(await refused.json(), { error: 'invalid_client', error_description: String })
  const failure: unknown = await oauth.processIntrospectionResponse(as, client, await oauth.introspectionRequest(as, client, wrong, token, options)).then(() => undefined, (error: unknown) => error)
  t.match(failure, { name: 'WWWAuthenticateChallengeError', status: 401, cause: [{ scheme: 'basic', parameters: { realm: 'tokenmint' } }] }, 'the library reads the Basic challenge')

  const keyClient: oauth.Client = { client_id: apiKeyId(API_KEY) }
  const viaApiKeys = await oauth.processIntrospectionResponse(as, keyClient, await oauth.introspectionRequest(as, keyClient, oauth.ClientSecretBasic(API_KEY), token, options))
  t.same(viaApiKeys, { active: false }, 'an API_KEYS key works as client_secret_basic with its key id')
})

test('oauth4webapi with client_secret_post: the secret travels in the body and never reaches a handler or a log line', async (t) => {
  const file = join(t.testdir(), 'clients.yaml')
  const secret = (clientsCommand(['add', 'poster', '--scopes', 'mint,tokens', '--file', file], {}).trim().split('\n').at(-1)) ?? ''
  const { fastify: app, lines } = await appWithLogs(t, { API_CLIENTS_FILE: file })
  const base = await app.listen({ host: '127.0.0.1', port: 0 })
  const options = { [oauth.allowInsecureRequests]: true }
  const as = await oauth.processDiscoveryResponse(new URL(base), await oauth.discoveryRequest(new URL(base), { ...options, algorithm: 'oauth2' }))
  t.ok(as.introspection_endpoint_auth_methods_supported?.includes('client_secret_post'))
  const minted = await fetch(`${base}/gen-jwt`, { method: 'POST', headers: { 'x-api-key': secret, 'content-type': 'application/json' }, body: '{}' })
  const { token } = await minted.json() as { token: string }
  const client: oauth.Client = { client_id: 'poster' }
  const auth = oauth.ClientSecretPost(secret)

  t.match(await oauth.processIntrospectionResponse(as, client, await oauth.introspectionRequest(as, client, auth, token, options)), { active: true, client_id: 'poster' })
  await oauth.processRevocationResponse(await oauth.revocationRequest(as, client, auth, token, options))
  t.same(await oauth.processIntrospectionResponse(as, client, await oauth.introspectionRequest(as, client, auth, token, options)), { active: false }, 'revoked')

  const wrong = await oauth.introspectionRequest(as, client, oauth.ClientSecretPost('not-the-secret'), token, options)
  t.equal(wrong.status, 401)
  t.same(await wrong.json(), { error: 'invalid_client', error_description: 'Client authentication failed.' })
  const unknown = await oauth.introspectionRequest(as, { client_id: 'nobody' }, oauth.ClientSecretPost(secret), token, options)
  t.equal(unknown.status, 401, 'a secret is only good with its own client id')
  const noSecret = await fetch(as.introspection_endpoint ?? '', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: `client_id=poster&token=${token}` })
  t.equal(noSecret.status, 401, 'no credentials at all')
  t.match(await noSecret.json(), { error: 'invalid_client' })

  // RFC 6749 section 2.3: one method per request.
  const basic = `Basic ${Buffer.from(`poster:${secret}`).toString('base64')}`
  const both = await fetch(as.introspection_endpoint ?? '', { method: 'POST', headers: { authorization: basic, 'content-type': 'application/x-www-form-urlencoded' }, body: `client_id=poster&client_secret=${secret}&token=${token}` })
  t.equal(both.status, 400)
  t.match(await both.json(), { error: 'invalid_request', error_description: 'Use one client authentication method per request.' })
  const scopeless = clientsCommand(['add', 'minter', '--scopes', 'mint', '--file', file], {}).trim().split('\n').at(-1) ?? ''
  await new Promise((resolve) => setTimeout(resolve, 1200))
  const forbidden = await oauth.introspectionRequest(as, { client_id: 'minter' }, oauth.ClientSecretPost(scopeless), token, options)
  t.equal(forbidden.status, 403, 'scopes apply to body credentials too')
  const logged = JSON.stringify(lines)
  t.ok(logged.includes('/v1/tokens/introspect'), 'the requests were logged')
  t.notOk(logged.includes(secret) || logged.includes(scopeless), 'no secret in any log line')
})

test('form bodies and OAuth errors on the two RFC endpoints only; JSON and problem+json stay for JSON clients', async (t) => {
  const app = await buildTestApp(t)
  const form = { 'content-type': 'application/x-www-form-urlencoded' }
  const missing = await app.inject({ method: 'POST', url: '/v1/tokens/introspect', headers: { ...form, 'x-api-key': API_KEY }, payload: 'token_type_hint=access_token' })
  t.equal(missing.statusCode, 400)
  t.match(missing.headers['content-type'], /^application\/json/)
  t.match(json(missing), { error: 'invalid_request', error_description: String })
  t.equal(missing.headers['cache-control'], 'no-store')
  const twice = await app.inject({ method: 'POST', url: '/v1/tokens/revoke', headers: { ...form, 'x-api-key': API_KEY }, payload: 'token=a&token=b' })
  t.match(json(twice), { error: 'invalid_request', error_description: 'The parameter "token" is sent more than once.' })
  for (const payload of ['__proto__=x&token=y', 'constructor=x&token=y', 'token=y&client_secret=z', `token=${'a'.repeat(20_000)}`]) {
    const hostile = await app.inject({ method: 'POST', url: '/v1/tokens/introspect', headers: { ...form, 'x-api-key': API_KEY }, payload })
    t.ok([400, 413].includes(hostile.statusCode), `${payload.slice(0, 24)}: ${hostile.statusCode}`)
    t.match(json(hostile), { error: 'invalid_request' })
  }
  const ok = await app.inject({ method: 'POST', url: '/v1/tokens/introspect', headers: { ...form, 'x-api-key': API_KEY }, payload: 'token=not-a-jwt' })
  t.same(json(ok), { active: false })
  assertMatchesOpenApi(t, ok, 'POST', '/v1/tokens/introspect')
  assertProblem(t, await app.inject({ method: 'POST', url: '/v1/tokens/introspect', headers: { 'x-api-key': 'wrong-key-0123456789' }, payload: { token: 'x' } }), 401, 'invalid_api_key')
  assertProblem(t, await app.inject({ method: 'POST', url: '/gen-jwt', headers: { ...form, 'x-api-key': API_KEY }, payload: 'instance_id=x' }), 415, 'unsupported_media_type')
  const metadata = await app.inject({ url: '/.well-known/oauth-authorization-server' })
  assertMatchesOpenApi(t, metadata, 'GET', '/.well-known/oauth-authorization-server')
  t.match(json(metadata), { issuer: 'http://localhost:80', revocation_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post'] })
  const configured = await buildTestApp(t, { env: { PUBLIC_URL: 'https://auth.example.com/' } })
  t.match(json(await configured.inject({ url: '/.well-known/oauth-authorization-server' })), { issuer: 'https://auth.example.com', jwks_uri: 'https://auth.example.com/.well-known/jwks.json' })
})

test('an OAuth client\'s error goes through the one error handler: logged and counted like any other, answered the OAuth way', async (t) => {
  const memory = createMemoryStore()
  let down = false
  const store: Store = { ...memory, revocations: { ...memory.revocations, isRevoked: async (jti) => { if (down) throw new StoreUnavailableError(); return await memory.revocations.isRevoked(jti) } } }
  const app = await buildTestApp(t, { store })
  const token = String(json(await app.inject({ method: 'POST', url: '/gen-jwt', headers: { 'x-api-key': API_KEY }, payload: {} })).token)
  down = true
  const basic = `Basic ${Buffer.from(`${apiKeyId(API_KEY)}:${API_KEY}`).toString('base64')}`
  const response = await app.inject({ method: 'POST', url: '/v1/tokens/introspect', headers: { authorization: basic, 'content-type': 'application/x-www-form-urlencoded' }, payload: `token=${token}` })
  t.equal(response.statusCode, 503)
  t.same(json(response), { error: 'temporarily_unavailable', error_description: 'The data store is temporarily unavailable; try again shortly.' })
  t.equal(response.headers['retry-after'], '5')
  const metrics = (await app.inject({ url: '/metrics' })).body
  t.match(metrics, /tokenmint_dependency_errors_total\{dependency="store"\} 1/, 'the outage is counted')
})
