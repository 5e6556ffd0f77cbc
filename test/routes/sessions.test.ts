import { join } from 'node:path'
import { test } from 'tap'
import type { Test } from 'tap'
import * as oauth from 'oauth4webapi'
import { calculateJwkThumbprint, exportJWK } from 'jose'
import { apiKeyId } from '../../lib/api-keys.js'
import { clientsCommand } from '../../scripts/clients.js'
import { API_KEY, buildTestApp, decodeJwt } from '../helper.js'
import type { Env } from '../../lib/config.js'

// Refresh sessions and the token endpoint, over a real port, with oauth4webapi unmodified.

const insecure = { [oauth.allowInsecureRequests]: true } as const

async function server (t: Test, env: Env = {}): Promise<{ base: string, as: oauth.AuthorizationServer, app: Awaited<ReturnType<typeof buildTestApp>> }> {
  const app = await buildTestApp(t, { env: { RATE_LIMIT_MAX: '100000', ...env } })
  const base = await app.listen({ host: '127.0.0.1', port: 0 })
  const as = await oauth.processDiscoveryResponse(new URL(base), await oauth.discoveryRequest(new URL(base), { ...insecure, algorithm: 'oauth2' }))
  return { base, as, app }
}

async function mint (base: string, body: Record<string, unknown>): Promise<{ token: string, refresh_token?: string, token_type: string }> {
  const response = await fetch(`${base}/gen-jwt`, { method: 'POST', headers: { 'x-api-key': API_KEY, 'content-type': 'application/json' }, body: JSON.stringify(body) })
  return await response.json() as { token: string, refresh_token?: string, token_type: string }
}

const me = async (base: string, token: string, instanceId: string): Promise<number> =>
  (await fetch(`${base}/v1/me`, { headers: { authorization: `Bearer ${token}`, 'x-instance-id': instanceId } })).status

async function grantError (promise: Promise<unknown>): Promise<unknown> {
  return await promise.then(() => undefined, (error: unknown) => error)
}

test('a device-bound session: oauth4webapi refreshes, rotation, reuse ends the whole session', async (t) => {
  const { base, as } = await server(t)
  t.equal(as.token_endpoint, `${base}/oauth/token`)
  t.same(as.grant_types_supported, ['refresh_token', 'client_credentials'])
  const client: oauth.Client = { client_id: apiKeyId(API_KEY) }
  const minted = await mint(base, { instance_id: 'd1' })
  t.match(minted.refresh_token, /^rt_[A-Za-z0-9_-]{43}$/)
  t.equal(decodeJwt(minted.token).payload.sid !== undefined, true, 'the access token names its session')
  const device = { ...insecure, headers: { 'x-instance-id': 'd1' } }

  const first = await oauth.processRefreshTokenResponse(as, client, await oauth.refreshTokenGrantRequest(as, client, oauth.None(), String(minted.refresh_token), device))
  t.match(first, { token_type: 'bearer', expires_in: 300, refresh_token: /^rt_/ })
  t.not(first.refresh_token, minted.refresh_token, 'rotated')
  t.equal(decodeJwt(first.access_token).payload.instance_id, 'd1', 'bound to the same device')
  t.equal(await me(base, first.access_token, 'd1'), 200)

  // Without the device's id nothing happens: the token is not spent.
  const noDevice = await grantError(oauth.refreshTokenGrantRequest(as, client, oauth.None(), String(first.refresh_token), insecure).then(async (response) => await oauth.processRefreshTokenResponse(as, client, response)))
  t.match(noDevice, { error: 'invalid_grant', status: 400 })
  const second = await oauth.processRefreshTokenResponse(as, client, await oauth.refreshTokenGrantRequest(as, client, oauth.None(), String(first.refresh_token), device))
  t.equal(await me(base, second.access_token, 'd1'), 200)

  // The first refresh token again: reuse. The whole session ends, including the newest pair.
  const reuse = await grantError(oauth.refreshTokenGrantRequest(as, client, oauth.None(), String(first.refresh_token), device).then(async (response) => await oauth.processRefreshTokenResponse(as, client, response)))
  t.match(reuse, { error: 'invalid_grant', error_description: /already used/ })
  const afterReuse = await fetch(`${base}/oauth/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-instance-id': 'd1' }, body: `grant_type=refresh_token&refresh_token=${String(second.refresh_token)}` })
  t.equal(afterReuse.status, 400)
  t.same(await afterReuse.json(), { error: 'invalid_grant', error_description: 'This session has ended.' })
  t.equal(await me(base, second.access_token, 'd1'), 401, 'access tokens of the session are revoked too')
  t.equal(await me(base, minted.token, 'd1'), 401, 'from its very first one')

  const other = await mint(base, { instance_id: 'd2' })
  t.equal(await me(base, other.token, 'd2'), 200, 'other sessions are untouched')
  const metrics = await (await fetch(`${base}/metrics`)).text()
  t.match(metrics, /tokenmint_refresh_token_reuse_total 1/)
})

test('two simultaneous uses of one refresh token: exactly one succeeds, and the session then ends', async (t) => {
  const { base } = await server(t)
  const minted = await mint(base, { instance_id: 'race' })
  const answers = await Promise.all(Array.from({ length: 10 }, async () => {
    const response = await fetch(`${base}/oauth/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-instance-id': 'race' }, body: `grant_type=refresh_token&refresh_token=${String(minted.refresh_token)}` })
    return { status: response.status, body: await response.json() as { refresh_token?: string, access_token?: string } }
  }))
  const winners = answers.filter((answer) => answer.status === 200)
  t.equal(winners.length, 1, 'exactly one of 10 concurrent uses')
  t.equal(answers.filter((answer) => answer.status === 400).length, 9)
  const winner = winners[0]?.body
  const next = await fetch(`${base}/oauth/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-instance-id': 'race' }, body: `grant_type=refresh_token&refresh_token=${String(winner?.refresh_token)}` })
  t.equal(next.status, 400, "the winner's refresh token dies with the session")
  t.equal(await me(base, String(winner?.access_token), 'race'), 401, "and so does the winner's access token")
})

test('a DPoP-bound session refreshes only with a proof from its key (oauth4webapi DPoP handle)', async (t) => {
  const { base, as } = await server(t)
  const keyPair = await oauth.generateKeyPair('ES256')
  const jkt = await calculateJwkThumbprint(await exportJWK(keyPair.publicKey))
  const minted = await mint(base, { dpop_jkt: jkt })
  t.equal(minted.token_type, 'DPoP')
  const client: oauth.Client = { client_id: apiKeyId(API_KEY) }
  const refreshed = await oauth.processRefreshTokenResponse(as, client, await oauth.refreshTokenGrantRequest(as, client, oauth.None(), String(minted.refresh_token), { ...insecure, DPoP: oauth.DPoP(client, keyPair) }))
  t.equal(refreshed.token_type, 'dpop')
  t.same(decodeJwt(refreshed.access_token).payload.cnf, { jkt })

  const noProof = await fetch(`${base}/oauth/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: `grant_type=refresh_token&refresh_token=${String(refreshed.refresh_token)}` })
  t.match(await noProof.json(), { error: 'invalid_grant', error_description: /bound to a key/ })
  const otherKey = await oauth.generateKeyPair('ES256')
  const wrongKey = await grantError(oauth.refreshTokenGrantRequest(as, client, oauth.None(), String(refreshed.refresh_token), { ...insecure, DPoP: oauth.DPoP(client, otherKey) }).then(async (response) => await oauth.processRefreshTokenResponse(as, client, response)))
  t.match(wrongKey, { error: 'invalid_grant' })
  const again = await oauth.processRefreshTokenResponse(as, client, await oauth.refreshTokenGrantRequest(as, client, oauth.None(), String(refreshed.refresh_token), { ...insecure, DPoP: oauth.DPoP(client, keyPair) }))
  t.equal(again.token_type, 'dpop', 'refused attempts did not spend the token')
})

test('client_credentials with oauth4webapi; errors are OAuth errors', async (t) => {
  const file = join(t.testdir(), 'clients.yaml')
  const secret = clientsCommand(['add', 'backend', '--scopes', 'mint', '--file', file], {}).trim().split('\n').at(-1) ?? ''
  const verifyOnly = clientsCommand(['add', 'checker', '--scopes', 'verify', '--file', file], {}).trim().split('\n').at(-1) ?? ''
  const { base, as } = await server(t, { API_CLIENTS_FILE: file })
  const client: oauth.Client = { client_id: 'backend' }
  const granted = await oauth.processClientCredentialsResponse(as, client, await oauth.clientCredentialsGrantRequest(as, client, oauth.ClientSecretBasic(secret), new URLSearchParams(), insecure))
  t.match(granted, { token_type: 'bearer', expires_in: 300 })
  t.notOk('refresh_token' in granted, 'no refresh token for a client token')
  t.match(decodeJwt(granted.access_token).payload, { sub: 'client:backend', client_id: 'backend' })
  const viaPost = await oauth.processClientCredentialsResponse(as, client, await oauth.clientCredentialsGrantRequest(as, client, oauth.ClientSecretPost(secret), new URLSearchParams(), insecure))
  t.ok(viaPost.access_token)

  t.match(await grantError(oauth.clientCredentialsGrantRequest(as, client, oauth.ClientSecretBasic('wrong'), new URLSearchParams(), insecure).then(async (response) => await oauth.processClientCredentialsResponse(as, client, response))), { status: 401 })
  const scopeless = await fetch(`${base}/oauth/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from(`checker:${verifyOnly}`).toString('base64')}` }, body: 'grant_type=client_credentials' })
  t.equal(scopeless.status, 403)
  t.same(await scopeless.json(), { error: 'unauthorized_client', error_description: 'This API client may not mint tokens (it lacks the mint scope).' })
  const anonymous = await fetch(`${base}/oauth/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'grant_type=client_credentials' })
  t.equal(anonymous.status, 401)
  t.match(await anonymous.json(), { error: 'invalid_client' })
  for (const [body, error] of [['grant_type=password&username=a&password=b', 'invalid_request'], ['grant_type=authorization_code', 'unsupported_grant_type'], ['grant_type=refresh_token', 'invalid_request'], ['grant_type=refresh_token&refresh_token=rt_nope', 'invalid_grant'], ['', 'invalid_request']] as const) {
    const response = await fetch(`${base}/oauth/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body })
    t.equal(response.status, 400, body)
    t.equal(response.headers.get('cache-control'), 'no-store')
    t.match(await response.json(), { error })
  }
  // A session minted by one client cannot be refreshed in another client's name.
  const minted = await (await fetch(`${base}/gen-jwt`, { method: 'POST', headers: { 'x-api-key': secret, 'content-type': 'application/json' }, body: '{"instance_id":"d9"}' })).json() as { refresh_token: string }
  const foreign = await fetch(`${base}/oauth/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-instance-id': 'd9' }, body: `grant_type=refresh_token&client_id=checker&refresh_token=${minted.refresh_token}` })
  t.match(await foreign.json(), { error: 'invalid_grant', error_description: /another client/ })
})

test('revoking a refresh token (RFC 7009) ends its session; login sessions refresh as client tokenmint:login', async (t) => {
  const { base, as, app } = await server(t)
  const client: oauth.Client = { client_id: apiKeyId(API_KEY) }
  const minted = await mint(base, { instance_id: 'r1' })
  await oauth.processRevocationResponse(await oauth.revocationRequest(as, client, oauth.ClientSecretBasic(API_KEY), String(minted.refresh_token), { ...insecure, additionalParameters: { token_type_hint: 'refresh_token' } }))
  t.equal(await me(base, minted.token, 'r1'), 401, 'the access token of the session is revoked')
  const refused = await fetch(`${base}/oauth/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-instance-id': 'r1' }, body: `grant_type=refresh_token&refresh_token=${String(minted.refresh_token)}` })
  t.equal(refused.status, 400)

  await app.inject({ method: 'POST', url: '/v1/users', headers: { 'x-api-key': API_KEY }, payload: { username: 'erin', password: 'correct horse battery' } })
  const login = await (await fetch(`${base}/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"username":"erin","password":"correct horse battery"}' })).json() as { token: string, refresh_token: string }
  const loginClient: oauth.Client = { client_id: 'tokenmint:login' }
  const refreshed = await oauth.processRefreshTokenResponse(as, loginClient, await oauth.refreshTokenGrantRequest(as, loginClient, oauth.None(), login.refresh_token, insecure))
  t.match(decodeJwt(refreshed.access_token).payload, { sub: 'user:erin', amr: ['pwd'], uid: decodeJwt(login.token).payload.uid })
  // A Bearer caller revokes its own session.
  const ownRevoke = await fetch(`${base}/v1/tokens/revoke`, { method: 'POST', headers: { authorization: `Bearer ${refreshed.access_token}`, 'content-type': 'application/json' }, body: JSON.stringify({ token: refreshed.refresh_token }) })
  t.equal(ownRevoke.status, 200)
  t.equal((await fetch(`${base}/v1/me`, { headers: { authorization: `Bearer ${refreshed.access_token}` } })).status, 401)
})

test('REFRESH_TOKENS=false: no refresh tokens', async (t) => {
  const { base } = await server(t, { REFRESH_TOKENS: 'false' })
  const minted = await mint(base, { instance_id: 'x' })
  t.notOk('refresh_token' in minted)
})

test('a password change ends every other session of the user and gives the caller a new one; an API client resets one', async (t) => {
  const { base, app } = await server(t)
  const json = { 'content-type': 'application/json' }
  await app.inject({ method: 'POST', url: '/v1/users', headers: { 'x-api-key': API_KEY }, payload: { username: 'fran', password: 'first password 1' } })
  const login = async (password: string): Promise<Response> => await fetch(`${base}/v1/auth/login`, { method: 'POST', headers: json, body: JSON.stringify({ username: 'fran', password }) })
  const phone = await (await login('first password 1')).json() as { token: string, refresh_token: string }
  const laptop = await (await login('first password 1')).json() as { token: string, refresh_token: string }
  const bearer = (token: string): Record<string, string> => ({ ...json, authorization: `Bearer ${token}` })
  const status = async (token: string): Promise<number> => (await fetch(`${base}/v1/me`, { headers: { authorization: `Bearer ${token}` } })).status
  const refresh = async (token: string): Promise<number> => (await fetch(`${base}/oauth/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: `grant_type=refresh_token&refresh_token=${token}` })).status

  const wrong = await fetch(`${base}/v1/auth/password`, { method: 'POST', headers: bearer(phone.token), body: JSON.stringify({ current_password: 'not it at all', new_password: 'second password 2' }) })
  t.equal(wrong.status, 403)
  t.match(await wrong.json(), { code: 'invalid_credentials' })
  t.equal(await status(laptop.token), 200, 'a wrong current password changes nothing')

  const changed = await fetch(`${base}/v1/auth/password`, { method: 'POST', headers: bearer(phone.token), body: JSON.stringify({ current_password: 'first password 1', new_password: 'second password 2' }) })
  t.equal(changed.status, 200)
  t.equal(changed.headers.get('cache-control'), 'no-store')
  const fresh = await changed.json() as { token: string, refresh_token: string }
  t.match(fresh, { token_type: 'Bearer', refresh_token: /^rt_/ })
  t.equal(await status(fresh.token), 200, 'the caller goes on with its new token')
  t.equal(await status(laptop.token), 401, "the other session's access token is refused")
  t.equal(await refresh(laptop.refresh_token), 400, 'and its refresh token')
  t.equal(await status(phone.token), 401, "the caller's old token too (it was replaced)")
  t.equal((await login('first password 1')).status, 401, 'the old password is gone')
  t.equal((await login('second password 2')).status, 200)
  t.equal(await refresh(fresh.refresh_token), 200, 'the new session refreshes')

  const device = await mint(base, { instance_id: 'kiosk' })
  const notUser = await fetch(`${base}/v1/auth/password`, { method: 'POST', headers: { ...bearer(device.token), 'x-instance-id': 'kiosk' }, body: JSON.stringify({ current_password: 'x'.repeat(8), new_password: 'y'.repeat(8) }) })
  t.equal(notUser.status, 403)
  t.match(await notUser.json(), { code: 'not_a_user' })
  const weak = await fetch(`${base}/v1/auth/password`, { method: 'POST', headers: bearer(fresh.token), body: JSON.stringify({ current_password: 'second password 2', new_password: 'short' }) })
  t.equal(weak.status, 400)
  t.match(await weak.json(), { code: 'invalid_password' })

  // The API client's reset: every session ends, the new password works.
  const reset = await fetch(`${base}/v1/users/fran/password`, { method: 'POST', headers: { ...json, 'x-api-key': API_KEY }, body: JSON.stringify({ password: 'third password 3' }) })
  t.equal(reset.status, 204)
  t.equal(await status(fresh.token), 401)
  t.equal((await login('third password 3')).status, 200)
  const missing = await fetch(`${base}/v1/users/nobody/password`, { method: 'POST', headers: { ...json, 'x-api-key': API_KEY }, body: JSON.stringify({ password: 'third password 3' }) })
  t.equal(missing.status, 404)
})

test('wrong current passwords are throttled like failed logins', async (t) => {
  const { base, app } = await server(t)
  await app.inject({ method: 'POST', url: '/v1/users', headers: { 'x-api-key': API_KEY }, payload: { username: 'gus', password: 'first password 1' } })
  const login = await (await fetch(`${base}/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"username":"gus","password":"first password 1"}' })).json() as { token: string }
  const statuses = await Promise.all(Array.from({ length: 8 }, async () => (await fetch(`${base}/v1/auth/password`, {
    method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${login.token}` }, body: JSON.stringify({ current_password: 'wrong guess!', new_password: 'second password 2' })
  })).status))
  t.same(statuses.filter((s) => s === 403).length, 5, 'five guesses, concurrently')
  t.same(statuses.filter((s) => s === 429).length, 3)
})

test('a key-bound login keeps its key across a password change; REFRESH_TOKENS=false logins have none; a client_id must be the authenticated client', async (t) => {
  const { base, app } = await server(t, { REFRESH_TOKENS: 'false' })
  await app.inject({ method: 'POST', url: '/v1/users', headers: { 'x-api-key': API_KEY }, payload: { username: 'hana', password: 'first password 1' } })
  const keyPair = await oauth.generateKeyPair('ES256')
  const jkt = await calculateJwkThumbprint(await exportJWK(keyPair.publicKey))
  const login = await (await fetch(`${base}/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'hana', password: 'first password 1', dpop_jkt: jkt }) })).json() as Record<string, unknown>
  t.notOk('refresh_token' in login, 'no refresh token with REFRESH_TOKENS=false')
  const url = new URL(`${base}/v1/auth/password`)
  const changed = await oauth.protectedResourceRequest(String(login.token), 'POST', url, new Headers({ 'content-type': 'application/json' }),
    JSON.stringify({ current_password: 'first password 1', new_password: 'second password 2' }), { ...insecure, DPoP: oauth.DPoP({}, keyPair) })
  t.equal(changed.status, 200)
  const body = await changed.json() as { token: string, token_type: string }
  t.equal(body.token_type, 'DPoP')
  t.same(decodeJwt(body.token).payload.cnf, { jkt }, 'the new token is bound to the same key')

  const mismatched = await fetch(`${base}/oauth/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-api-key': API_KEY }, body: 'grant_type=refresh_token&refresh_token=rt_x&client_id=someone-else' })
  t.equal(mismatched.status, 401)
  t.match(await mismatched.json(), { error: 'invalid_client' })
})
