import { test } from 'tap'
import { existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ConfigError, loadConfig, parseDuration } from '../../lib/config.js'

test('development defaults need no environment and generate secrets', async (t) => {
  const config = loadConfig({}, { secretsFile: null })
  t.equal(config.nodeEnv, 'development')
  t.equal(config.port, 3000)
  t.equal(config.host, '127.0.0.1')
  t.equal(config.mongodbUrl, undefined)
  t.equal(config.mongodbDatabase, 'jwt_db')
  t.equal(config.apiKeys.length, 1)
  t.match(config.apiKeys[0], /^tm_dev_[A-Za-z0-9_-]{32}$/)
  t.equal(config.jwt.algorithm, 'HS256')
  t.equal(config.jwt.secret.length, 32)
  t.equal(config.jwt.expireSeconds, 300)
  t.same([config.jwt.issuer, config.jwt.audience], ['tokenmint', 'tokenmint'])
  t.same(config.appVerify.rateLimit, { max: 1, windowMs: 1000 })
  t.same([config.appVerify.tokenTtl, config.appVerify.backdate, config.appVerify.public], [90, 10, false])
  t.same([config.otp.codeLength, config.otp.codeExpiration, config.otp.retriesAllowed], [6, 600, 3])
  t.equal(config.sms.provider, 'console')
  t.same([config.sms.resendCooldown, config.sms.maxSends, config.sms.retention, config.sms.verifiedToken], [30, 5, 86400, true])
  t.same(config.sms.allowedCountries, [])
  t.match(config.sms.authMessage, /\{code\}/)
  t.same(config.rateLimit, { max: 100, windowMs: 60_000, ban: undefined, client: { max: 6000, windowMs: 60_000 }, subject: { max: 120, windowMs: 60_000 }, flood: { max: 20_000, windowMs: 60_000 } })
  t.equal(config.trustProxy, undefined)
  t.same(config.generatedSecrets.sort(), ['API_KEYS', 'APPVERIFY_API_KEY', 'JWT_SECRET', 'OTP_PEPPER'])
})

test('development secrets persist across restarts in a private file', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'tokenmint-config-'))
  const file = join(dir, 'nested', 'secrets.json')
  const first = loadConfig({}, { secretsFile: file })
  t.ok(existsSync(file))
  t.equal(statSync(file).mode & 0o777, 0o600)
  const second = loadConfig({}, { secretsFile: file })
  t.same(second.apiKeys, first.apiKeys)
  t.same(second.jwt.secret, first.jwt.secret)
  t.equal(second.otp.pepper, first.otp.pepper)

  writeFileSync(file, 'not json')
  const regenerated = loadConfig({}, { secretsFile: file })
  t.not(regenerated.apiKeys[0], first.apiKeys[0], 'a damaged file is replaced')
  t.same(Object.keys(JSON.parse(readFileSync(file, 'utf8'))).sort(), ['API_KEYS', 'APPVERIFY_API_KEY', 'JWT_SECRET', 'OTP_PEPPER'])
})

test('explicit settings are parsed and validated', async (t) => {
  const config = loadConfig({
    PORT: '8080',
    API_KEYS: 'key-one-0123456789, key-two-0123456789',
    JWT_EXPIRE_SECONDS: '120',
    RATE_LIMIT_WINDOW: '30s',
    RATE_LIMIT_BAN: '3',
    APPVERIFY_RATE_LIMIT: '5 per minute',
    APPVERIFY_PUBLIC: 'true',
    SMS_ALLOWED_COUNTRIES: 'us, ca',
    TRUST_PROXY: '10.0.0.0/8,127.0.0.1,::1',
    VERIFIED_TOKEN: 'false',
    REDIS_URL: 'redis://127.0.0.1:6379/'
  }, { secretsFile: null })
  t.equal(config.port, 8080)
  t.same(config.apiKeys, ['key-one-0123456789', 'key-two-0123456789'])
  t.equal(config.jwt.expireSeconds, 120)
  t.match(config.rateLimit, { max: 100, windowMs: 30_000, ban: 3 })
  t.same(config.appVerify.rateLimit, { max: 5, windowMs: 60_000 })
  t.equal(config.appVerify.public, true)
  t.same(config.sms.allowedCountries, ['US', 'CA'])
  t.same(config.trustProxy, ['10.0.0.0/8', '127.0.0.1', '::1'])
  t.equal(config.sms.verifiedToken, false)
  t.equal(config.redisUrl, 'redis://127.0.0.1:6379')
  t.notOk(config.generatedSecrets.includes('API_KEYS'))
})

test('every invalid setting is reported at once', async (t) => {
  const error = t.throws(() => loadConfig({
    PORT: 'eighty',
    NODE_ENV: 'staging',
    JWT_ALGORITHM: 'RS256',
    JWT_SECRET: 'c2hvcnQ=',
    CODE_LENGTH: '3',
    API_KEYS: 'short',
    TRUST_PROXY: 'true',
    SMS_ALLOWED_COUNTRIES: 'USA',
    RATE_LIMIT_WINDOW: 'a while',
    APPVERIFY_RATE_LIMIT: 'lots',
    APPVERIFY_PUBLIC: 'maybe',
    AUTH_MESSAGE: 'no placeholder',
    SMS_WEBHOOK_URL: 'not a url',
    LOG_LEVEL: 'loud'
  }, { secretsFile: null })) as ConfigError
  t.ok(error instanceof ConfigError)
  const text = error.problems.join('\n')
  for (const name of ['PORT', 'NODE_ENV', 'JWT_ALGORITHM', 'CODE_LENGTH', 'API_KEYS', 'TRUST_PROXY', 'SMS_ALLOWED_COUNTRIES', 'RATE_LIMIT_WINDOW', 'APPVERIFY_RATE_LIMIT', 'APPVERIFY_PUBLIC', 'AUTH_MESSAGE', 'SMS_WEBHOOK_URL', 'LOG_LEVEL']) {
    t.match(text, name, `${name} is reported`)
  }
  t.notMatch(error.message, 'c2hvcnQ=', 'secret values are not echoed')
})

test('production refuses insecure defaults and lists everything missing', async (t) => {
  const error = t.throws(() => loadConfig({ NODE_ENV: 'production' }, { secretsFile: null })) as ConfigError
  const text = error.problems.join('\n')
  for (const name of ['API_KEYS', 'MONGODB_URL', 'JWT_SECRET', 'OTP_PEPPER', 'APPVERIFY_API_KEY', 'APPVERIFY_CUSTOMER_ID', 'SMS_PROVIDER=console']) {
    t.match(text, name, `${name} is listed`)
  }
  const provider = t.throws(() => loadConfig({ NODE_ENV: 'production', SMS_PROVIDER: 'twilio', TWILIO_BASE_URL: 'http://127.0.0.1:1' }, { secretsFile: null })) as ConfigError
  t.match(provider.problems.join('\n'), /TWILIO_ACCOUNT_SID[\s\S]*TWILIO_AUTH_TOKEN[\s\S]*TWILIO_FROM[\s\S]*TWILIO_BASE_URL must use https/)

  const complete = loadConfig({
    NODE_ENV: 'production',
    API_KEYS: 'production-key-0123456789abcdef',
    MONGODB_URL: 'mongodb://db.internal:27017',
    JWT_SECRET: Buffer.alloc(32, 7).toString('base64'),
    OTP_PEPPER: 'pepper-pepper-pepper-pepper-pepper-pepper',
    APPVERIFY_API_KEY: Buffer.alloc(32, 9).toString('base64'),
    APPVERIFY_CUSTOMER_ID: 'CUST-1',
    SMS_PROVIDER: 'webhook',
    SMS_WEBHOOK_URL: 'https://sms.internal/send',
    SMS_WEBHOOK_SECRET: 'webhook-secret-webhook-secret-webhook-secret'
  }, { secretsFile: '/nonexistent/never-written.json' })
  t.same(complete.generatedSecrets, [], 'production generates nothing')
  t.equal(complete.nodeEnv, 'production')
})

test('providers other than console need their settings in development too', async (t) => {
  const error = t.throws(() => loadConfig({ SMS_PROVIDER: 'flowroute' }, { secretsFile: null })) as ConfigError
  t.match(error.problems.join('\n'), /FLOWROUTE_ACCESS_KEY[\s\S]*FLOWROUTE_SECRET_KEY[\s\S]*FLOWROUTE_NUMBER/)
  const webhook = t.throws(() => loadConfig({ SMS_PROVIDER: 'webhook' }, { secretsFile: null })) as ConfigError
  t.match(webhook.problems.join('\n'), /SMS_WEBHOOK_URL[\s\S]*SMS_WEBHOOK_SECRET/)
})

test('parseDuration reads the forms docs/configuration.md documents', async (t) => {
  t.equal(parseDuration('1 minute'), 60_000)
  t.equal(parseDuration('30s'), 30_000)
  t.equal(parseDuration('500ms'), 500)
  t.equal(parseDuration('2 hours'), 7_200_000)
  t.equal(parseDuration('45'), 45_000)
  t.equal(parseDuration('1 constructor'), undefined)
  t.equal(parseDuration('0s'), undefined)
  t.equal(parseDuration('-1s'), undefined)
  t.equal(parseDuration('soon'), undefined)
})

test('PASSWORD_HASH_COST: production refuses less than scrypt 2^15; development takes 10 and up', async (t) => {
  t.equal(loadConfig({ PASSWORD_HASH_COST: '10' }, { secretsFile: null }).passwordHashCost, 10)
  t.equal(loadConfig({}, { secretsFile: null }).passwordHashCost, 15)
  t.throws(() => loadConfig({ PASSWORD_HASH_COST: '9' }, { secretsFile: null }), { message: /PASSWORD_HASH_COST: must be an integer from 10 to 20/ })
  t.throws(() => loadConfig({ NODE_ENV: 'production', PASSWORD_HASH_COST: '14' }, { secretsFile: null }), { message: /PASSWORD_HASH_COST must be at least 15 in production \(OWASP's floor for scrypt\)/ })
})

test('WORKERS above 1 needs the shared store and shared counters', async (t) => {
  const refused = (() => { try { loadConfig({ WORKERS: '2' }, { secretsFile: null }); return undefined } catch (error) { return error } })()
  t.ok(refused instanceof ConfigError)
  t.match(String((refused as Error).message), /WORKERS: 2 processes need MONGODB_URL[\s\S]*WORKERS: 2 processes need REDIS_URL/)
  const config = loadConfig({ WORKERS: '2', MONGODB_URL: 'mongodb://127.0.0.1:27017', REDIS_URL: 'redis://127.0.0.1:6379' }, { secretsFile: null })
  t.equal(config.workers, 2)
  t.equal(loadConfig({}, { secretsFile: null }).workers, 1, 'one process by default')
})
