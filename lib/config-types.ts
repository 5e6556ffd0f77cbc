import type { Rate, Settings } from './settings.js'

export type Env = Record<string, string | undefined>
export type SmsProviderName = Settings['SMS_PROVIDER']

/** The settings of lib/settings.ts grouped by concern; every leaf's type comes from the table. */
export interface Config {
  nodeEnv: Settings['NODE_ENV']
  port: Settings['PORT']
  workers: Settings['WORKERS']
  host: Settings['HOST']
  publicUrl: Settings['PUBLIC_URL']
  logLevel: Settings['LOG_LEVEL']
  logFormat: Settings['LOG_FORMAT']
  docsEnabled: Settings['DOCS_ENABLED']
  metricsToken: Settings['METRICS_TOKEN']
  corsOrigins: Settings['CORS_ORIGINS']
  mongodbUrl: Settings['MONGODB_URL']
  mongodbDatabase: Settings['MONGODB_DATABASE']
  memoryStoreMaxRecords: Settings['MEMORY_STORE_MAX_RECORDS']
  apiKeys: Settings['API_KEYS']
  apiClientsFile: Settings['API_CLIENTS_FILE']
  passwordHashCost: Settings['PASSWORD_HASH_COST']
  webhooks: { file: Settings['WEBHOOKS_FILE'], maxAttempts: Settings['WEBHOOK_MAX_ATTEMPTS'], retryBaseMs: Settings['WEBHOOK_RETRY_BASE_MS'] }
  jwt: {
    algorithm: Settings['JWT_ALGORITHM']
    /** HS256 secret, base64-decoded (empty when unset). */
    secret: Buffer
    keysFile: Settings['JWT_KEYS_FILE']
    /** Development only: a generated JWKS (JSON) for ES256/EdDSA when no JWT_KEYS_FILE is set. */
    devJwks: string | undefined
    expireSeconds: Settings['JWT_EXPIRE_SECONDS']
    issuer: Settings['JWT_ISSUER']
    audience: Settings['JWT_AUDIENCE']
    refresh: { enabled: Settings['REFRESH_TOKENS'], idleSeconds: Settings['REFRESH_TOKEN_IDLE_SECONDS'], maxSeconds: Settings['REFRESH_TOKEN_MAX_SECONDS'] }
    /** RFC 9449 section 8: proofs must carry a fresh server nonce. */
    dpopNonce: Settings['DPOP_NONCE']
  }
  appVerify: {
    customerId: Settings['APPVERIFY_CUSTOMER_ID']
    /** The base64 key as configured; the signing key is its decoded bytes. */
    apiKey: string
    tokenTtl: Settings['APPVERIFY_TOKEN_TTL']
    backdate: Settings['APPVERIFY_BACKDATE']
    rateLimit: Rate
    public: Settings['APPVERIFY_PUBLIC']
  }
  otp: {
    codeLength: Settings['CODE_LENGTH']
    codeExpiration: Settings['CODE_EXPIRATION']
    retriesAllowed: Settings['RETRIES_ALLOWED']
    pepper: string
  }
  sms: {
    provider: SmsProviderName
    orgName: Settings['ORG_NAME']
    authMessage: Settings['AUTH_MESSAGE']
    resendCooldown: Settings['SMS_RESEND_COOLDOWN']
    maxSends: Settings['SMS_MAX_SENDS']
    /** Accepted SMS to one recipient in any 60-minute window, across all auth_ids (SMS pumping). */
    recipientHourlyLimit: Settings['SMS_RECIPIENT_HOURLY_LIMIT']
    /** Per-client limit on the two check routes, on top of the per-verification attempts. */
    checkRateLimit: Rate
    allowedCountries: Settings['SMS_ALLOWED_COUNTRIES']
    retention: Settings['VERIFICATION_RETENTION']
    verifiedToken: Settings['VERIFIED_TOKEN']
    /** Flowroute's own API (POST and GET at the prefix) for its unmodified clients. */
    flowrouteCompat: { enabled: Settings['FLOWROUTE_COMPAT'], prefix: Settings['FLOWROUTE_COMPAT_PREFIX'], allow: Settings['FLOWROUTE_COMPAT_ALLOW'] }
    flowroute: { accessKey: Settings['FLOWROUTE_ACCESS_KEY'], secretKey: Settings['FLOWROUTE_SECRET_KEY'], number: Settings['FLOWROUTE_NUMBER'], baseUrl: Settings['FLOWROUTE_BASE_URL'] }
    twilio: { accountSid: Settings['TWILIO_ACCOUNT_SID'], authToken: Settings['TWILIO_AUTH_TOKEN'], from: Settings['TWILIO_FROM'], baseUrl: Settings['TWILIO_BASE_URL'] }
    webhook: { url: Settings['SMS_WEBHOOK_URL'], secret: Settings['SMS_WEBHOOK_SECRET'] }
  }
  rateLimit: {
    /** Anonymous callers and failed authentication, per address. */
    max: Settings['RATE_LIMIT_MAX']
    windowMs: Settings['RATE_LIMIT_WINDOW']
    ban: Settings['RATE_LIMIT_BAN']
    client: Rate
    subject: Rate
    flood: Rate
  }
  /** Unset: no proxy is trusted. */
  trustProxy: string[] | undefined
  redisUrl: Settings['REDIS_URL']
  /** Names of secrets generated for development (never set in production). */
  generatedSecrets: string[]
  /** Settings that work but deserve a look (logged once at start). */
  warnings: string[]
}

export class ConfigError extends Error {
  readonly problems: string[]
  constructor (problems: string[]) {
    super(`Invalid configuration:\n  - ${problems.join('\n  - ')}`)
    this.name = 'ConfigError'
    this.problems = problems
  }
}
