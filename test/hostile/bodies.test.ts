import { test } from 'tap'
import { randomUUID } from 'node:crypto'
import { API_KEY } from '../helper.js'
import { deviceKey } from '../lifecycle-helper.js'
import { bodyAttacks, hostileTarget, runHostileCases, send } from './harness.js'
import type { HostileTarget, JsonRoute } from './harness.js'

const key = { 'x-api-key': API_KEY }

/** Every JSON route with a body it accepts; fresh ids, so an attack that slipped through would store something new. */
export async function jsonRoutes (target: HostileTarget): Promise<JsonRoute[]> {
  const fresh = (): string => randomUUID().slice(0, 8)
  const issued = await send(target.base, { method: 'POST', path: '/gen-jwt', headers: key, body: { instance_id: `victim-${fresh()}` } })
  const token = (JSON.parse(issued.body) as { token: string }).token
  const { jkt } = await deviceKey('ES256')
  return [
    { method: 'POST', path: '/gen-jwt', headers: key, valid: { instance_id: `dev-${fresh()}` }, stringFields: ['instance_id'] },
    { method: 'POST', path: '/gen-jwt', headers: key, valid: { instance_id: `dev-${fresh()}`, dpop_jkt: jkt }, stringFields: ['dpop_jkt'] },
    {
      method: 'POST',
      path: '/v1/verifications',
      headers: key,
      valid: { auth_id: `signup-${fresh()}`, recipient: '+15551234567' },
      stringFields: ['auth_id', 'recipient'],
      // recipient may be a JSON number (Flowroute); a wrong one is a wrong phone number, not a schema error.
      fieldCodes: { recipient: 'invalid_phone_number' }
    },
    {
      method: 'POST',
      path: '/v1/verifications/check',
      headers: key,
      valid: { auth_id: `signup-${fresh()}`, code: '123456' },
      stringFields: ['auth_id', 'code'],
      invalidCode: 'invalid_api_usage'
    },
    { method: 'POST', path: '/v1/users', headers: key, valid: { username: `user-${fresh()}`, password: 'correct horse battery' }, stringFields: ['username', 'password'] },
    { method: 'POST', path: '/v1/auth/login', headers: {}, valid: { username: `user-${fresh()}`, password: 'correct horse battery' }, stringFields: ['username', 'password'] },
    { method: 'POST', path: '/v1/tokens/revoke', headers: key, valid: { token }, stringFields: ['token', 'token_type_hint'] },
    { method: 'POST', path: '/v1/tokens/introspect', headers: key, valid: { token }, stringFields: ['token', 'token_type_hint'] }
  ]
}

test('body attacks on every JSON route: 4xx problems, nothing stored', async (t) => {
  const target = await hostileTarget(t)
  const routes = await jsonRoutes(target)
  const cases = routes.flatMap(bodyAttacks)
  await runHostileCases(t, target, cases)
  t.ok(cases.length >= 280, `${cases.length} body cases`)

  // The valid bodies really are accepted, and the writing routes really write: "nothing stored" above means something.
  for (const route of routes) {
    if (route.path === '/v1/auth/login') {
      const created = await send(target.base, { method: 'POST', path: '/v1/users', headers: key, body: route.valid })
      t.equal(created.status, 201, 'the login user exists')
    }
    const before = target.writes()
    const answer = await send(target.base, { method: route.method, path: route.path, headers: route.headers, body: route.valid })
    if (route.path === '/v1/verifications/check') {
      t.equal(answer.status, 400, 'check: a well-formed body for an unknown auth_id reaches the service')
      t.equal((JSON.parse(answer.body) as { code: string }).code, 'unknown_auth_id')
      continue
    }
    t.ok(answer.status >= 200 && answer.status < 300, `${route.method} ${route.path}: the valid body is accepted (${answer.status})`)
    if (route.path !== '/v1/tokens/introspect') t.ok(target.writes() > before, `${route.method} ${route.path}: the valid body stores`)
  }
})
