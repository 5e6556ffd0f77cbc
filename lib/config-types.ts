import type { JwtAlgorithm } from './keys.js'

export type Env = Record<string, string | undefined>
export type SmsProviderName = 'console' | 'webhook' | 'flowroute' | 'twilio'

export const DEFAULT_AUTH_MESSAGE = '{code}\nWelcome to {org}! Use this one-time code to complete your signup.'

export interface Config {
  nodeEnv: 'development' | 'production'
  port: number
  host: string
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent'
  mongodbUrl: string | undefined
  mongodbDatabase: string
  apiKeys: string[]
  jwt: {
    algorithm: JwtAlgorithm
    /** HS256 secret, base64-decoded. */
    secret: Buffer
    keysFile: string | undefined
    /** Development only: a generated JWKS (JSON) for ES256/EdDSA when no JWT_KEYS_FILE is set. */
    devJwks: string | undefined
    expireSeconds: number
    issuer: string
    audience: string
  }
  appVerify: {
    customerId: string
    /** The base64 key as configured; the signing key is its decoded bytes. */
    apiKey: string
    tokenTtl: number
    backdate: number
    rateLimit: { max: number, windowMs: number }
    public: boolean
  }
  otp: {
    codeLength: number
    codeExpiration: number
    retriesAllowed: number
    pepper: string
  }
  sms: {
    provider: SmsProviderName
    orgName: string
    authMessage: string
    resendCooldown: number
    maxSends: number
    /** Accepted SMS to one recipient in any 60-minute window, across all auth_ids (SMS pumping). */
    recipientHourlyLimit: number
    /** Per-client limit on the two check routes, on top of the per-verification attempts. */
    checkRateLimit: { max: number, windowMs: number }
    allowedCountries: string[]
    retention: number
    verifiedToken: boolean
    flowroute: { accessKey?: string, secretKey?: string, number?: string, baseUrl: string }
    twilio: { accountSid?: string, authToken?: string, from?: string, baseUrl: string }
    webhook: { url?: string, secret?: string }
  }
  rateLimit: { max: number, windowMs: number, ban: number | undefined }
  trustProxy: string[] | undefined
  redisUrl: string | undefined
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
