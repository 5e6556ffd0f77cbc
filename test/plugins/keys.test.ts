import { test } from 'tap'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { build } from '../../app.js'
import { ConfigError, loadConfig } from '../../lib/config.js'
import { generatePrivateJwk } from '../../lib/keys.js'
import { testConfig } from '../helper.js'
import { writeKeysFile } from '../lifecycle-helper.js'

test('an unusable key file or key stops the start with a ConfigError naming the problem', async (t) => {
  const dir = t.testdir({ 'broken.json': '{' })
  const cases: Array<[Record<string, string>, RegExp]> = [
    [{ JWT_ALGORITHM: 'ES256', JWT_KEYS_FILE: join(dir, 'missing.json') }, /missing\.json: cannot be read/],
    [{ JWT_ALGORITHM: 'ES256', JWT_KEYS_FILE: join(dir, 'broken.json') }, /broken\.json: is not valid JSON/],
    [{ JWT_ALGORITHM: 'EdDSA', JWT_KEYS_FILE: writeKeysFile(t, [generatePrivateJwk('ES256', 'k')]) }, /alg must be EdDSA/],
    [{ JWT_ALGORITHM: 'ES256', JWT_DEV_JWKS_ES256: 'not json' }, /generated development key is damaged/],
    [{ JWT_ALGORITHM: 'ES256', JWT_DEV_JWKS_ES256: '{"keys":[]}' }, /generated development key: must be a JWKS object/]
  ]
  for (const [env, message] of cases) {
    await t.rejects(build({ config: testConfig(env) }), message)
    await t.rejects(build({ config: testConfig(env) }), ConfigError)
  }
  const config = testConfig({ JWT_ALGORITHM: 'ES256' })
  await t.rejects(build({ config: { ...config, jwt: { ...config.jwt, devJwks: undefined } } }), /JWT_KEYS_FILE is required for JWT_ALGORITHM=ES256/)
})

test('development generates one key pair per algorithm and keeps it in the secrets file', async (t) => {
  const secretsFile = join(t.testdir(), 'dev-secrets.json')
  const env = { API_KEYS: 'dev-key-0123456789abcdef', JWT_ALGORITHM: 'ES256' }
  const first = loadConfig(env, { secretsFile })
  const second = loadConfig(env, { secretsFile })
  t.type(first.jwt.devJwks, 'string')
  t.equal(second.jwt.devJwks, first.jwt.devJwks, 'the same key across restarts')
  t.ok(first.generatedSecrets.includes('JWT_DEV_JWKS_ES256'))
  const saved = JSON.parse(readFileSync(secretsFile, 'utf8')) as Record<string, string>
  t.match(JSON.parse(String(saved.JWT_DEV_JWKS_ES256)), { keys: [{ kty: 'EC', crv: 'P-256', alg: 'ES256', d: String }] })
  const ed = loadConfig({ ...env, JWT_ALGORITHM: 'EdDSA' }, { secretsFile })
  t.match(JSON.parse(String(ed.jwt.devJwks)), { keys: [{ kty: 'OKP', alg: 'EdDSA' }] })
  t.equal(loadConfig({ ...env, JWT_KEYS_FILE: '/some/file.json' }, { secretsFile }).jwt.devJwks, undefined, 'a key file wins')
  t.throws(() => loadConfig({ NODE_ENV: 'production', JWT_ALGORITHM: 'EdDSA' }, { secretsFile: null }), /JWT_KEYS_FILE is required in production when JWT_ALGORITHM=ES256 or EdDSA/)
})
