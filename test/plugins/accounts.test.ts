import { createHash } from 'node:crypto'
import { test } from 'tap'
import { API_KEY, buildTestApp } from '../helper.js'

const PASSWORD = 'correct horse battery'
const userKey = (username: string): string => `user:${createHash('sha256').update(username).digest('base64url')}`
const clientKey = (address: string): string => `client:${createHash('sha256').update(address).digest('base64url')}`

test('accounts.login: attempts are counted before the check, successes give them back, a refusal by address spends nothing on the username', async (t) => {
  const app = await buildTestApp(t)
  await app.inject({ method: 'POST', url: '/v1/users', headers: { 'x-api-key': API_KEY }, payload: { username: 'alice', password: PASSWORD } })
  const { accounts, store } = app

  await t.rejects(accounts.login('alice', 'wrong password', '10.0.0.1'), { statusCode: 401, code: 'invalid_credentials' })
  t.equal((await store.loginAttempts.get(userKey('alice')))?.count, 1, 'a failure stays counted for the username')
  t.equal((await store.loginAttempts.get(clientKey('10.0.0.1')))?.count, 1, 'and for the address')

  t.match(await accounts.login('alice', PASSWORD, '10.0.0.1'), { access: { token: String }, refreshToken: String })
  t.equal(await store.loginAttempts.get(userKey('alice')), null, 'a success clears the username window')
  t.equal((await store.loginAttempts.get(clientKey('10.0.0.1')))?.count, 1, 'and gives the address its own attempt back: only the failure counts')

  for (let i = 0; i < 20; i++) await accounts.login(`nobody-${i}`, 'wrong password', '10.0.0.2').catch(() => undefined)
  await t.rejects(accounts.login('alice', PASSWORD, '10.0.0.2'), { statusCode: 429, code: 'too_many_attempts' })
  t.equal((await store.loginAttempts.get(userKey('alice')))?.count ?? 0, 0, 'refused by the address: the username spent nothing')
  t.match(await accounts.login('alice', PASSWORD, '10.0.0.3'), { access: { token: String } }, 'another address logs in')
})
