import { generatePrivateJwk } from './keys.js'
import { ConfigError } from './config-types.js'
import type { Config, Env } from './config-types.js'
import { messageChecks, workerProblems } from './config-rules.js'
import { loadDevSecrets, saveDevSecrets } from './dev-secrets.js'
import { decodeBase64, readSettings } from './settings.js'

export { ConfigError } from './config-types.js'
export type { Config, Env, SmsProviderName } from './config-types.js'
export { DEFAULT_AUTH_MESSAGE, parseDuration } from './settings.js'

export interface LoadOptions {
  /** Where development secrets persist across restarts; null keeps them in memory only. */
  secretsFile?: string | null
}

/** Reads the environment through the settings table into a typed Config, collecting every problem before failing. */
export function loadConfig (env: Env, options: LoadOptions = {}): Config {
  // Loaded on first use: production never generates, so it never reads the development secrets file.
  let secrets: ReturnType<typeof loadDevSecrets> | undefined
  const secretFor = (name: string, make: () => string): string => {
    secrets ??= loadDevSecrets(options.secretsFile)
    let value = secrets.values[name]
    if (value === undefined) {
      value = make()
      secrets.values[name] = value
      secrets.dirty = true
    }
    return value
  }
  const { values: s, problems, generated } = readSettings(env, secretFor)
  const production = s.NODE_ENV === 'production'

  // Development with an asymmetric algorithm and no key file: one generated key pair, persisted like the other dev secrets.
  let devJwks: string | undefined
  if (s.JWT_ALGORITHM !== 'HS256' && s.JWT_KEYS_FILE === undefined && !production) {
    const name = `JWT_DEV_JWKS_${s.JWT_ALGORITHM.toUpperCase()}`
    devJwks = env[name]?.trim()
    if (devJwks === undefined || devJwks === '') {
      devJwks = secretFor(name, () => JSON.stringify({ keys: [generatePrivateJwk(s.JWT_ALGORITHM)] }))
      generated.push(name)
    }
  }

  const config: Config = {
    nodeEnv: s.NODE_ENV,
    port: s.PORT,
    workers: s.WORKERS,
    host: s.HOST,
    publicUrl: s.PUBLIC_URL,
    logLevel: s.LOG_LEVEL,
    logFormat: s.LOG_FORMAT,
    docsEnabled: s.DOCS_ENABLED,
    metricsToken: s.METRICS_TOKEN,
    corsOrigins: s.CORS_ORIGINS,
    mongodbUrl: s.MONGODB_URL,
    mongodbDatabase: s.MONGODB_DATABASE,
    memoryStoreMaxRecords: s.MEMORY_STORE_MAX_RECORDS,
    apiKeys: s.API_KEYS,
    apiClientsFile: s.API_CLIENTS_FILE,
    passwordHashCost: s.PASSWORD_HASH_COST,
    webhooks: { file: s.WEBHOOKS_FILE, maxAttempts: s.WEBHOOK_MAX_ATTEMPTS, retryBaseMs: s.WEBHOOK_RETRY_BASE_MS },
    jwt: {
      algorithm: s.JWT_ALGORITHM,
      secret: decodeBase64(s.JWT_SECRET ?? '') ?? Buffer.alloc(0),
      keysFile: s.JWT_KEYS_FILE,
      devJwks,
      expireSeconds: s.JWT_EXPIRE_SECONDS,
      issuer: s.JWT_ISSUER,
      audience: s.JWT_AUDIENCE,
      dpopNonce: s.DPOP_NONCE,
      refresh: { enabled: s.REFRESH_TOKENS, idleSeconds: s.REFRESH_TOKEN_IDLE_SECONDS, maxSeconds: s.REFRESH_TOKEN_MAX_SECONDS }
    },
    appVerify: {
      customerId: s.APPVERIFY_CUSTOMER_ID,
      apiKey: s.APPVERIFY_API_KEY ?? '',
      tokenTtl: s.APPVERIFY_TOKEN_TTL,
      backdate: s.APPVERIFY_BACKDATE,
      rateLimit: s.APPVERIFY_RATE_LIMIT,
      public: s.APPVERIFY_PUBLIC
    },
    otp: {
      codeLength: s.CODE_LENGTH,
      codeExpiration: s.CODE_EXPIRATION,
      retriesAllowed: s.RETRIES_ALLOWED,
      pepper: s.OTP_PEPPER ?? ''
    },
    sms: {
      provider: s.SMS_PROVIDER,
      orgName: s.ORG_NAME,
      authMessage: s.AUTH_MESSAGE,
      resendCooldown: s.SMS_RESEND_COOLDOWN,
      maxSends: s.SMS_MAX_SENDS,
      recipientHourlyLimit: s.SMS_RECIPIENT_HOURLY_LIMIT,
      checkRateLimit: s.SMS_CHECK_RATE_LIMIT,
      allowedCountries: s.SMS_ALLOWED_COUNTRIES,
      retention: s.VERIFICATION_RETENTION,
      verifiedToken: s.VERIFIED_TOKEN,
      flowrouteCompat: {
        enabled: s.FLOWROUTE_COMPAT,
        prefix: s.FLOWROUTE_COMPAT_PREFIX,
        allow: s.FLOWROUTE_COMPAT_ALLOW.length > 0 ? s.FLOWROUTE_COMPAT_ALLOW : ['127.0.0.1', '::1']
      },
      flowroute: { accessKey: s.FLOWROUTE_ACCESS_KEY, secretKey: s.FLOWROUTE_SECRET_KEY, number: s.FLOWROUTE_NUMBER, baseUrl: s.FLOWROUTE_BASE_URL },
      twilio: { accountSid: s.TWILIO_ACCOUNT_SID, authToken: s.TWILIO_AUTH_TOKEN, from: s.TWILIO_FROM, baseUrl: s.TWILIO_BASE_URL },
      webhook: { url: s.SMS_WEBHOOK_URL, secret: s.SMS_WEBHOOK_SECRET }
    },
    rateLimit: { max: s.RATE_LIMIT_MAX, windowMs: s.RATE_LIMIT_WINDOW, ban: s.RATE_LIMIT_BAN, client: s.RATE_LIMIT_CLIENT, subject: s.RATE_LIMIT_SUBJECT, flood: s.RATE_LIMIT_FLOOD },
    trustProxy: s.TRUST_PROXY.length > 0 ? s.TRUST_PROXY : undefined,
    redisUrl: s.REDIS_URL,
    generatedSecrets: generated,
    warnings: []
  }

  const message = messageChecks(config)
  problems.push(...message.problems, ...workerProblems(config))
  config.warnings.push(...message.warnings)
  if (problems.length > 0) throw new ConfigError(problems)
  if (secrets?.dirty === true) saveDevSecrets(options.secretsFile, secrets.values)
  return config
}
