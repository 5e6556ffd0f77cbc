import { randomBytes } from 'node:crypto'
import { isIP } from 'node:net'
import { generatePrivateJwk } from './keys.js'
import { ConfigError, DEFAULT_AUTH_MESSAGE } from './config-types.js'
import type { Config, Env } from './config-types.js'
import { messageChecks, MIN_SECRET_LENGTH, productionProblems, providerProblems } from './config-rules.js'
import { loadDevSecrets, saveDevSecrets } from './dev-secrets.js'
import type { DevSecrets } from './dev-secrets.js'

export { ConfigError, DEFAULT_AUTH_MESSAGE } from './config-types.js'
export type { Config, Env, SmsProviderName } from './config-types.js'

export interface LoadOptions {
  /** Where development secrets persist across restarts; null keeps them in memory only. */
  secretsFile?: string | null
}

const DURATION_UNITS: Record<string, number> = {
  ms: 1,
  s: 1000,
  sec: 1000,
  second: 1000,
  seconds: 1000,
  m: 60_000,
  min: 60_000,
  minute: 60_000,
  minutes: 60_000,
  h: 3_600_000,
  hour: 3_600_000,
  hours: 3_600_000
}

/** Reads the environment into a typed Config, collecting every problem before failing. */
export function loadConfig (env: Env, options: LoadOptions = {}): Config {
  const problems: string[] = []
  const read = new Reader(env, problems)

  const nodeEnv = read.oneOf('NODE_ENV', ['development', 'production'] as const, 'development')
  const production = nodeEnv === 'production'
  const secrets = production ? { values: {} as DevSecrets, dirty: false } : loadDevSecrets(options.secretsFile)
  const generated: string[] = []
  const devSecret = (name: keyof DevSecrets & string, make: () => string): string => {
    const configured = read.string(name)
    if (configured !== undefined) return configured
    if (production) return ''
    let value = secrets.values[name]
    if (value === undefined) {
      value = make()
      secrets.values[name] = value
      secrets.dirty = true
    }
    generated.push(name)
    return value
  }

  const apiKeys = devSecret('API_KEYS', () => `tm_dev_${randomBytes(24).toString('base64url')}`)
    .split(',').map((k) => k.trim()).filter((k) => k.length > 0)
  for (const key of apiKeys) {
    if (key.length < 16) problems.push('API_KEYS: every key must be at least 16 characters')
  }

  const algorithm = read.oneOf('JWT_ALGORITHM', ['HS256', 'ES256', 'EdDSA'] as const, 'HS256')
  const keysFile = read.string('JWT_KEYS_FILE')
  const jwtSecretText = algorithm === 'HS256' && keysFile === undefined
    ? devSecret('JWT_SECRET', () => randomBytes(32).toString('base64'))
    : (read.string('JWT_SECRET') ?? '')
  const jwtSecret = decodeBase64(jwtSecretText)
  // Development with an asymmetric algorithm and no key file: one generated key pair, persisted like the other dev secrets.
  const devJwks = algorithm !== 'HS256' && keysFile === undefined && !production
    ? devSecret(`JWT_DEV_JWKS_${algorithm.toUpperCase()}`, () => JSON.stringify({ keys: [generatePrivateJwk(algorithm)] }))
    : undefined
  if (jwtSecretText !== '' && (jwtSecret === undefined || jwtSecret.length < 32)) {
    problems.push('JWT_SECRET: must be base64 of at least 32 bytes')
  }

  const appVerifyKey = devSecret('APPVERIFY_API_KEY', () => randomBytes(32).toString('base64'))
  if (appVerifyKey !== '' && (decodeBase64(appVerifyKey)?.length ?? 0) < 16) {
    problems.push('APPVERIFY_API_KEY: must be base64 of at least 16 bytes')
  }

  const smsProvider = read.oneOf('SMS_PROVIDER', ['console', 'webhook', 'flowroute', 'twilio'] as const, 'console')
  const authMessage = read.string('AUTH_MESSAGE') ?? DEFAULT_AUTH_MESSAGE
  if (!authMessage.includes('{code}')) problems.push('AUTH_MESSAGE: must contain {code}')

  const config: Config = {
    nodeEnv,
    port: read.int('PORT', 3000, 0, 65535),
    host: read.string('HOST') ?? '127.0.0.1',
    logLevel: read.oneOf('LOG_LEVEL', ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const, 'info'),
    mongodbUrl: read.string('MONGODB_URL'),
    mongodbDatabase: read.string('MONGODB_DATABASE') ?? 'jwt_db',
    apiKeys,
    jwt: {
      algorithm,
      secret: jwtSecret ?? Buffer.alloc(0),
      keysFile,
      devJwks,
      expireSeconds: read.int('JWT_EXPIRE_SECONDS', 300, 10, 86_400),
      issuer: read.string('JWT_ISSUER') ?? 'tokenmint',
      audience: read.string('JWT_AUDIENCE') ?? 'tokenmint'
    },
    appVerify: {
      customerId: read.string('APPVERIFY_CUSTOMER_ID') ?? (production ? '' : 'DEV-CUSTOMER-ID'),
      apiKey: appVerifyKey,
      tokenTtl: read.int('APPVERIFY_TOKEN_TTL', 90, 1, 3600),
      backdate: read.int('APPVERIFY_BACKDATE', 10, 0, 300),
      rateLimit: read.rate('APPVERIFY_RATE_LIMIT', { max: 1, windowMs: 1000 }),
      public: read.bool('APPVERIFY_PUBLIC', false)
    },
    otp: {
      codeLength: read.int('CODE_LENGTH', 6, 4, 10),
      codeExpiration: read.int('CODE_EXPIRATION', 600, 1, 86_400),
      retriesAllowed: read.int('RETRIES_ALLOWED', 3, 1, 10),
      pepper: devSecret('OTP_PEPPER', () => randomBytes(32).toString('base64'))
    },
    sms: {
      provider: smsProvider,
      orgName: read.string('ORG_NAME') ?? 'Your Organization Name',
      authMessage,
      resendCooldown: read.int('SMS_RESEND_COOLDOWN', 30, 0, 3600),
      maxSends: read.int('SMS_MAX_SENDS', 5, 1, 100),
      recipientHourlyLimit: read.int('SMS_RECIPIENT_HOURLY_LIMIT', 10, 1, 10_000),
      checkRateLimit: read.rate('SMS_CHECK_RATE_LIMIT', { max: 10, windowMs: 60_000 }),
      allowedCountries: read.countries('SMS_ALLOWED_COUNTRIES'),
      retention: read.int('VERIFICATION_RETENTION', 86_400, 60, 30 * 86_400),
      verifiedToken: read.bool('VERIFIED_TOKEN', true),
      flowroute: {
        accessKey: read.string('FLOWROUTE_ACCESS_KEY'),
        secretKey: read.string('FLOWROUTE_SECRET_KEY'),
        number: read.string('FLOWROUTE_NUMBER'),
        baseUrl: read.url('FLOWROUTE_BASE_URL') ?? 'https://api.flowroute.com'
      },
      twilio: {
        accountSid: read.string('TWILIO_ACCOUNT_SID'),
        authToken: read.string('TWILIO_AUTH_TOKEN'),
        from: read.string('TWILIO_FROM'),
        baseUrl: read.url('TWILIO_BASE_URL') ?? 'https://api.twilio.com'
      },
      webhook: {
        url: read.url('SMS_WEBHOOK_URL'),
        secret: read.string('SMS_WEBHOOK_SECRET')
      }
    },
    rateLimit: {
      max: read.int('RATE_LIMIT_MAX', 100, 1, 1_000_000),
      windowMs: read.duration('RATE_LIMIT_WINDOW', 60_000),
      ban: read.ban('RATE_LIMIT_BAN')
    },
    trustProxy: read.proxies('TRUST_PROXY'),
    redisUrl: read.url('REDIS_URL'),
    generatedSecrets: generated,
    warnings: []
  }

  for (const [name, value] of [['OTP_PEPPER', config.otp.pepper], ['SMS_WEBHOOK_SECRET', config.sms.webhook.secret]] as const) {
    if (value !== undefined && value !== '' && value.length < MIN_SECRET_LENGTH) problems.push(`${name}: must be at least ${MIN_SECRET_LENGTH} characters`)
  }
  const message = messageChecks(config)
  problems.push(...message.problems)
  config.warnings.push(...message.warnings)

  if (production) problems.push(...productionProblems(config))
  else problems.push(...providerProblems(config, false))
  if (problems.length > 0) throw new ConfigError(problems)
  if (secrets.dirty) saveDevSecrets(options.secretsFile, secrets.values)
  return config
}

function decodeBase64 (text: string): Buffer | undefined {
  const trimmed = text.trim()
  if (!/^[A-Za-z0-9+/_-]*={0,2}$/.test(trimmed)) return undefined
  return Buffer.from(trimmed, trimmed.includes('-') || trimmed.includes('_') ? 'base64url' : 'base64')
}

class Reader {
  constructor (private readonly env: Env, private readonly problems: string[]) {}

  string (name: string): string | undefined {
    const value = this.env[name]
    if (value === undefined) return undefined
    const trimmed = value.trim()
    return trimmed === '' ? undefined : trimmed
  }

  oneOf<T extends string> (name: string, allowed: readonly T[], fallback: T): T {
    const value = this.string(name)
    if (value === undefined) return fallback
    const match = allowed.find((a) => a === value)
    if (match === undefined) {
      this.problems.push(`${name}: must be one of ${allowed.join(', ')}`)
      return fallback
    }
    return match
  }

  int (name: string, fallback: number, min: number, max: number): number {
    const value = this.string(name)
    if (value === undefined) return fallback
    const parsed = /^-?\d+$/.test(value) ? Number(value) : Number.NaN
    if (!Number.isSafeInteger(parsed) || parsed < min || parsed > max) {
      this.problems.push(`${name}: must be an integer from ${min} to ${max}`)
      return fallback
    }
    return parsed
  }

  bool (name: string, fallback: boolean): boolean {
    const value = this.string(name)?.toLowerCase()
    if (value === undefined) return fallback
    if (['true', '1', 'yes', 'on'].includes(value)) return true
    if (['false', '0', 'no', 'off'].includes(value)) return false
    this.problems.push(`${name}: must be true or false`)
    return fallback
  }

  url (name: string): string | undefined {
    const value = this.string(name)
    if (value === undefined) return undefined
    try {
      const url = new URL(value)
      if (!['http:', 'https:', 'mongodb:', 'mongodb+srv:', 'redis:', 'rediss:'].includes(url.protocol)) throw new Error('protocol')
      return value.replace(/\/+$/, '')
    } catch {
      this.problems.push(`${name}: must be an absolute URL`)
      return undefined
    }
  }

  /** "1 minute", "30s", "500ms", or a bare number of seconds. */
  duration (name: string, fallbackMs: number): number {
    const value = this.string(name)
    if (value === undefined) return fallbackMs
    const ms = parseDuration(value)
    if (ms === undefined) {
      this.problems.push(`${name}: must be a duration such as "1 minute", "30s" or "500ms"`)
      return fallbackMs
    }
    return ms
  }

  /** "1 per second", "10/minute", or a bare number per second. */
  rate (name: string, fallback: { max: number, windowMs: number }): { max: number, windowMs: number } {
    const value = this.string(name)
    if (value === undefined) return fallback
    const match = /^(\d+)\s*(?:(?:per|\/)\s*(.+))?$/i.exec(value)
    const max = match?.[1] === undefined ? Number.NaN : Number(match[1])
    const windowMs = match?.[2] === undefined ? 1000 : parseDuration(/^\d/.test(match[2]) ? match[2] : `1 ${match[2]}`)
    if (!Number.isSafeInteger(max) || max < 1 || windowMs === undefined) {
      this.problems.push(`${name}: must look like "1 per second" or "10 per minute"`)
      return fallback
    }
    return { max, windowMs }
  }

  ban (name: string): number | undefined {
    const value = this.string(name)
    if (value === undefined || value.toLowerCase() === 'off') return undefined
    return this.int(name, 0, 0, 1000)
  }

  countries (name: string): string[] {
    const value = this.string(name)
    if (value === undefined) return []
    const codes = value.split(',').map((c) => c.trim().toUpperCase()).filter((c) => c !== '')
    for (const code of codes) {
      if (!/^[A-Z]{2}$/.test(code)) this.problems.push(`${name}: "${code}" is not an ISO 3166-1 alpha-2 code`)
    }
    return codes
  }

  proxies (name: string): string[] | undefined {
    const value = this.string(name)
    if (value === undefined) return undefined
    const entries = value.split(',').map((e) => e.trim()).filter((e) => e !== '')
    for (const entry of entries) {
      const [address, bits, ...rest] = entry.split('/')
      const family = isIP(address ?? '')
      const validBits = bits === undefined || (/^\d+$/.test(bits) && Number(bits) <= (family === 6 ? 128 : 32))
      if (family === 0 || !validBits || rest.length > 0) {
        this.problems.push(`${name}: "${entry}" is not an IP address or CIDR (a blanket "true" is refused)`)
      }
    }
    return entries
  }
}

export function parseDuration (text: string): number | undefined {
  const match = /^(\d+)\s*([a-z]*)$/i.exec(text.trim())
  if (match?.[1] === undefined) return undefined
  const unit = match[2]?.toLowerCase() ?? ''
  if (unit !== '' && !Object.hasOwn(DURATION_UNITS, unit)) return undefined
  const factor = unit === '' ? 1000 : DURATION_UNITS[unit] as number
  const ms = Number(match[1]) * factor
  return ms > 0 && Number.isSafeInteger(ms) ? ms : undefined
}
