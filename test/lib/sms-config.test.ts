import { test } from 'tap'
import { ConfigError, loadConfig } from '../../lib/config.js'

test('SMS_RECIPIENT_HOURLY_LIMIT and SMS_CHECK_RATE_LIMIT: defaults, values, refusals', async (t) => {
  const defaults = loadConfig({}, { secretsFile: null })
  t.equal(defaults.sms.recipientHourlyLimit, 10)
  t.same(defaults.sms.checkRateLimit, { max: 10, windowMs: 60_000 })
  const set = loadConfig({ SMS_RECIPIENT_HOURLY_LIMIT: '3', SMS_CHECK_RATE_LIMIT: '5 per minute' }, { secretsFile: null })
  t.equal(set.sms.recipientHourlyLimit, 3)
  t.same(set.sms.checkRateLimit, { max: 5, windowMs: 60_000 })
  t.throws(() => loadConfig({ SMS_RECIPIENT_HOURLY_LIMIT: '0' }, { secretsFile: null }), ConfigError)
  t.throws(() => loadConfig({ SMS_CHECK_RATE_LIMIT: 'lots' }, { secretsFile: null }), ConfigError)
})

const problemsOf = (env: Record<string, string>): string => {
  try {
    loadConfig(env, { secretsFile: null })
    return ''
  } catch (error) {
    return (error as ConfigError).problems.join('\n')
  }
}

test('OTP_PEPPER and SMS_WEBHOOK_SECRET need 32 characters, in production and development alike', async (t) => {
  const webhook = { SMS_PROVIDER: 'webhook', SMS_WEBHOOK_URL: 'http://127.0.0.1:9/sms' }
  t.match(problemsOf({ OTP_PEPPER: 'x' }), 'OTP_PEPPER: must be at least 32 characters')
  t.match(problemsOf({ ...webhook, SMS_WEBHOOK_SECRET: 'x' }), 'SMS_WEBHOOK_SECRET: must be at least 32 characters')
  t.match(problemsOf({ NODE_ENV: 'production', OTP_PEPPER: 'x', ...webhook, SMS_WEBHOOK_SECRET: 's' }), /OTP_PEPPER: must be at least 32[\s\S]*SMS_WEBHOOK_SECRET: must be at least 32/)
  t.equal(problemsOf({ OTP_PEPPER: 'p'.repeat(32), ...webhook, SMS_WEBHOOK_SECRET: 's'.repeat(32) }), '')
})

const twilio = { SMS_PROVIDER: 'twilio', TWILIO_ACCOUNT_SID: `AC${'0123456789abcdef'.repeat(2)}`, TWILIO_AUTH_TOKEN: 'token', TWILIO_FROM: '+12065550101' }

test('provider settings are checked at start: Twilio SID and sender, Flowroute number', async (t) => {
  t.equal(problemsOf(twilio), '')
  t.match(problemsOf({ ...twilio, TWILIO_ACCOUNT_SID: 'AC1' }), 'TWILIO_ACCOUNT_SID: must be "AC" followed by 32 hexadecimal digits')
  t.match(problemsOf({ ...twilio, TWILIO_ACCOUNT_SID: `SK${'0'.repeat(32)}` }), 'TWILIO_ACCOUNT_SID')
  t.equal(problemsOf({ ...twilio, TWILIO_FROM: `MG${'a'.repeat(32)}` }), '', 'a messaging service SID')
  t.equal(problemsOf({ ...twilio, TWILIO_FROM: 'Acme' }), '', 'an alphanumeric sender ID')
  t.match(problemsOf({ ...twilio, TWILIO_FROM: `MG${'a'.repeat(31)}` }), 'TWILIO_FROM: must be')
  t.match(problemsOf({ ...twilio, TWILIO_FROM: '2065550101' }), 'TWILIO_FROM: must be')
  const flowroute = { SMS_PROVIDER: 'flowroute', FLOWROUTE_ACCESS_KEY: 'a', FLOWROUTE_SECRET_KEY: 'b' }
  t.equal(problemsOf({ ...flowroute, FLOWROUTE_NUMBER: '12065550101' }), '')
  t.equal(problemsOf({ ...flowroute, FLOWROUTE_NUMBER: '+12065550101' }), '')
  for (const number of ['2065550101', '442071838750', '1206555010', '+1 206 555 0101', '11065550101']) {
    t.match(problemsOf({ ...flowroute, FLOWROUTE_NUMBER: number }), 'FLOWROUTE_NUMBER: must be an 11-digit NANP number', number)
  }
})

test('AUTH_MESSAGE: refused over Twilio\'s 1600 characters once rendered, warned about over one segment', async (t) => {
  t.equal(problemsOf({ ...twilio, AUTH_MESSAGE: `{code} ${'x'.repeat(1593)}` }), '', 'exactly 1600 is accepted')
  t.match(problemsOf({ ...twilio, AUTH_MESSAGE: `{code} ${'x'.repeat(1594)}` }), /AUTH_MESSAGE: renders to 1601 characters; Twilio accepts at most 1600/)
  t.match(problemsOf({ ...twilio, AUTH_MESSAGE: '{code} {org}', ORG_NAME: 'o'.repeat(1600) }), 'AUTH_MESSAGE: renders to 1607', '{org} counts as rendered')
  t.equal(problemsOf({ AUTH_MESSAGE: `{code} ${'x'.repeat(1594)}` }), '', 'the console provider has no such limit')
  t.same(loadConfig({}, { secretsFile: null }).warnings, [], 'the default message fits one segment')
  const gsm = loadConfig({ AUTH_MESSAGE: `{code} ${'x'.repeat(160)}` }, { secretsFile: null })
  t.match(gsm.warnings, [/AUTH_MESSAGE renders to 167 GSM-7 units, more than one SMS segment \(160\)/])
  const ucs2 = loadConfig({ AUTH_MESSAGE: `{code} Willkommen ✓ ${'x'.repeat(60)}` }, { secretsFile: null })
  t.match(ucs2.warnings, [/UCS-2 units, more than one SMS segment \(70\)/])
  const extension = loadConfig({ AUTH_MESSAGE: `{code} ${'€'.repeat(77)}` }, { secretsFile: null })
  t.match(extension.warnings, [/161 GSM-7 units/], 'the euro sign takes two septets')
})
