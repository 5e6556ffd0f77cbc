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
