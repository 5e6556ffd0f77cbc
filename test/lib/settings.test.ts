import { readFileSync } from 'node:fs'
import { test } from 'tap'
import { ConfigError, loadConfig } from '../../lib/config.js'
import { readSettings, SETTINGS } from '../../lib/settings.js'
import type { Setting } from '../../lib/settings.js'
import { renderSettingsPage, SETTINGS_PAGE } from '../../scripts/settings-docs.js'

const entries = Object.entries(SETTINGS) as Array<[string, Setting<unknown>]>
const generateNothing = (name: string): string => { throw new Error(`${name} generated`) }

const problemsOf = (env: Record<string, string>): string[] => {
  try {
    loadConfig(env, { secretsFile: null })
    return []
  } catch (error) {
    if (error instanceof ConfigError) return error.problems
    throw error
  }
}

test('docs/configuration.md carries the table as generated from lib/settings.ts (run npm run docs:settings)', async (t) => {
  const page = readFileSync(SETTINGS_PAGE, 'utf8')
  t.equal(page, renderSettingsPage(page))
  for (const [name] of entries) t.match(page, `| \`${name}\` |`, `${name} is documented`)
})

test('every documented default is what the reader uses when the variable is unset', async (t) => {
  const { values } = readSettings({}, (_name, make) => make())
  for (const [name, spec] of entries) {
    const shown = /^`([^`]*)`$/.exec(spec.shown)?.[1]
    if (shown === undefined || spec.generate !== undefined) continue
    const parsed = spec.parse(shown.replaceAll('\\n', '\n'))
    t.ok(parsed.ok, `${name}: the shown default ${spec.shown} parses`)
    if (parsed.ok) t.same(parsed.value, (values as Record<string, unknown>)[name], `${name}: the shown default is the fallback`)
  }
})

test('integer settings accept their bounds and refuse one past them, naming the setting', async (t) => {
  const integers = entries.filter(([, spec]) => spec.bounds !== undefined)
  t.ok(integers.length >= 12, `${integers.length} integer settings`)
  // What a setting needs beside it to be valid at all (several workers need the shared store and counters).
  const needs: Record<string, Record<string, string>> = { WORKERS: { MONGODB_URL: 'mongodb://127.0.0.1:27017', REDIS_URL: 'redis://127.0.0.1:6379' } }
  for (const [name, spec] of integers) {
    const { min, max } = spec.bounds ?? { min: 0, max: 0 }
    t.same(problemsOf({ ...needs[name], [name]: String(min) }), [], `${name}=${min}`)
    t.same(problemsOf({ ...needs[name], [name]: String(max) }), [], `${name}=${max}`)
    for (const bad of [String(min - 1), String(max + 1), '1.5', 'ten', '']) {
      const problems = problemsOf({ ...needs[name], [name]: bad })
      if (bad === '') t.same(problems, [], `${name} empty means unset`)
      else t.same(problems, [`${name}: must be an integer from ${min} to ${max}`], `${name}=${bad}`)
    }
  }
})

test('production names every setting it requires, and nothing development needs', async (t) => {
  const required = entries.filter(([, spec]) => spec.production?.required === true).map(([name]) => name)
  t.same(required.sort(), ['APPVERIFY_API_KEY', 'APPVERIFY_CUSTOMER_ID', 'MONGODB_URL', 'OTP_PEPPER'])
  const problems = problemsOf({ NODE_ENV: 'production' }).join('\n')
  for (const name of required) t.match(problems, `${name} is required in production`)
  t.match(problems, 'API_KEYS is required in production when API_CLIENTS_FILE is unset (or API_CLIENTS_FILE)')
  t.match(problems, 'JWT_SECRET is required in production when JWT_ALGORITHM=HS256 and JWT_KEYS_FILE is unset (or JWT_KEYS_FILE)')
  t.match(problems, 'SMS_PROVIDER=console prints codes and is refused in production')
  t.notMatch(problems, /FLOWROUTE|TWILIO|WEBHOOK/, 'no provider credentials for the console provider')
  t.same(readSettings({ NODE_ENV: 'production' }, generateNothing).generated, [], 'production generates nothing')
})

test('a provider\'s credentials are required exactly when it is chosen', async (t) => {
  for (const provider of ['flowroute', 'twilio', 'webhook']) {
    const needed = entries.filter(([, spec]) => spec.requiredWhen?.SMS_PROVIDER === provider).map(([name]) => name)
    t.ok(needed.length >= 2, `${provider}: ${needed.join(', ')}`)
    t.same(problemsOf({ SMS_PROVIDER: provider }), needed.map((name) => `${name} is required when SMS_PROVIDER=${provider}`))
  }
})

test('generated development secrets satisfy their own rules', async (t) => {
  for (const [name, spec] of entries.filter(([, s]) => s.generate !== undefined)) {
    const made = spec.generate?.make() ?? ''
    t.ok(spec.parse(made).ok, `${name} parses`)
    t.not(spec.generate?.make(), made, `${name} is random`)
  }
})

test('list settings report each bad entry once', async (t) => {
  t.same(problemsOf({ SMS_ALLOWED_COUNTRIES: 'US,usa,1x,usa' }), ['SMS_ALLOWED_COUNTRIES: "USA" is not an ISO 3166-1 alpha-2 code; "1X" is not an ISO 3166-1 alpha-2 code'])
  t.same(loadConfig({ SMS_ALLOWED_COUNTRIES: ' us , ca ' }, { secretsFile: null }).sms.allowedCountries, ['US', 'CA'])
  t.same(problemsOf({ TRUST_PROXY: 'true' }), ['TRUST_PROXY: "true" is not an IP address or CIDR (a blanket "true" is refused)'])
  t.same(problemsOf({ API_KEYS: 'short,also-short' }), ['API_KEYS: every key must be at least 16 characters'])
})
