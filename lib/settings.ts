import { randomBytes } from 'node:crypto'
import { isIP } from 'node:net'
import { parse as parseMs } from '@lukeed/ms'

/**
 * Every environment setting, as data: its type and bounds, its default, when it is required,
 * what production refuses, and its one-line doc. lib/config.ts reads the environment through this
 * table, the Config type takes its leaf types from it, and docs/configuration.md's table is
 * rendered from it (`npm run docs:settings`, drift-tested).
 */

/** Other settings' values that make a rule apply: a value, one of several, or null for unset. */
export type Condition = Readonly<Record<string, string | readonly string[] | null>>

/** What a setting reads to: its value, or why the text was refused. */
export type Parsed<T> = { ok: true, value: T } | { ok: false, problem: string }

export interface Setting<T> {
  readonly group: string
  readonly doc: string
  /** How the value is written, for the docs table. */
  readonly form: string
  /** The value when the variable is unset (and no development secret is generated). */
  readonly fallback: T
  /** The default as the docs table shows it. */
  readonly shown: string
  readonly parse: (text: string) => Parsed<T>
  /** Integer settings: the accepted range. */
  readonly bounds?: { readonly min: number, readonly max: number }
  /** Development only: a generated secret, kept in .tokenmint/ across restarts. */
  readonly generate?: { make: () => string, when?: Condition }
  /** Required in every environment while the condition holds (an SMS provider's credentials). */
  readonly requiredWhen?: Condition
  readonly production?: {
    /** Production refuses to start without it (true), or without it while the condition holds. */
    readonly required?: true | Condition
    /** Why, appended to the refusal. */
    readonly why?: string
    /** Values production refuses, with the reason. */
    readonly refuse?: { readonly values: readonly string[], readonly why: string }
    /** An http: URL is refused in production. */
    readonly https?: true
    /** Integer settings: production refuses less. */
    readonly atLeast?: number
  }
}

type Options<T> = Pick<Setting<T>, 'group' | 'doc'> & Partial<Pick<Setting<T>, 'generate' | 'requiredWhen' | 'production' | 'shown' | 'bounds'>>

const ok = <T> (value: T): Parsed<T> => ({ ok: true, value })
const refused = <T> (problem: string): Parsed<T> => ({ ok: false, problem })

function setting<T> (options: Options<T>, form: string, fallback: T, shown: string, parse: (text: string) => Parsed<T>): Setting<T> {
  return { form, fallback, parse, ...options, shown: options.shown ?? shown }
}

function text<F extends string | undefined = undefined> (options: Options<string | F> & { minLength?: number, pattern?: RegExp, hint?: string, contains?: string, fallback?: F }): Setting<string | F> {
  const { minLength, pattern, hint, contains } = options
  const fallback = options.fallback as F
  const form = hint ?? (minLength !== undefined ? `text, at least ${minLength} characters` : contains !== undefined ? `text containing \`${contains}\`` : 'text')
  return setting<string | F>(options, form, fallback, fallback === undefined ? '' : `\`${fallback.replaceAll('\n', '\\n')}\``, (value) => {
    if (minLength !== undefined && value.length < minLength) return refused(`must be at least ${minLength} characters`)
    if (pattern !== undefined && !pattern.test(value)) return refused(`must be ${hint ?? pattern.source}`)
    if (contains !== undefined && !value.includes(contains)) return refused(`must contain ${contains}`)
    return ok(value)
  })
}

function oneOf<const T extends string> (options: Options<T> & { values: readonly T[], fallback: T }): Setting<T> {
  const { values, fallback } = options
  return setting(options, values.map((v) => `\`${v}\``).join(', '), fallback, `\`${fallback}\``, (value) => {
    const match = values.find((v) => v === value)
    return match === undefined ? refused(`must be one of ${values.join(', ')}`) : ok(match)
  })
}

function int (options: Options<number> & { fallback: number, min: number, max: number, unit?: string }): Setting<number> {
  const { fallback, min, max, unit } = options
  return setting({ ...options, bounds: { min, max } }, `integer ${min}..${max}${unit === undefined ? '' : ` (${unit})`}`, fallback, `\`${fallback}\``, (value) => {
    const parsed = /^-?\d+$/.test(value) ? Number(value) : Number.NaN
    return Number.isSafeInteger(parsed) && parsed >= min && parsed <= max ? ok(parsed) : refused(`must be an integer from ${min} to ${max}`)
  })
}

function bool (options: Options<boolean> & { fallback: boolean }): Setting<boolean> {
  return setting(options, '`true` or `false`', options.fallback, `\`${options.fallback}\``, (value) => {
    const lower = value.toLowerCase()
    if (['true', '1', 'yes', 'on'].includes(lower)) return ok(true)
    if (['false', '0', 'no', 'off'].includes(lower)) return ok(false)
    return refused('must be true or false')
  })
}

const URL_PROTOCOLS = ['http:', 'https:', 'mongodb:', 'mongodb+srv:', 'redis:', 'rediss:']

function url<F extends string | undefined> (options: Options<string | F> & { fallback: F, form: string }): Setting<string | F> {
  const { fallback } = options
  return setting<string | F>(options, options.form, fallback, fallback === undefined ? '' : `\`${fallback}\``, (value) => {
    try {
      if (!URL_PROTOCOLS.includes(new URL(value).protocol)) return refused('must be an absolute URL')
      return ok(value.replace(/\/+$/, ''))
    } catch {
      return refused('must be an absolute URL')
    }
  })
}

/** "1 minute", "30s", "500ms" (the units @lukeed/ms reads), or a bare number of seconds; whole positive milliseconds. */
export function parseDuration (value: string): number | undefined {
  const trimmed = value.trim()
  const ms = /^\d+$/.test(trimmed) ? Number(trimmed) * 1000 : parseMs(trimmed)
  return ms !== undefined && ms > 0 && Number.isSafeInteger(ms) ? ms : undefined
}

function duration (options: Options<number> & { fallback: number, shown: string }): Setting<number> {
  return setting(options, 'duration: `1 minute`, `30s`, `500ms`, or seconds', options.fallback, options.shown, (value) => {
    const ms = parseDuration(value)
    return ms === undefined ? refused('must be a duration such as "1 minute", "30s" or "500ms"') : ok(ms)
  })
}

export interface Rate { max: number, windowMs: number }

function rate (options: Options<Rate> & { fallback: Rate, shown: string }): Setting<Rate> {
  return setting(options, 'rate: `1 per second`, `10/minute`, or a number per second', options.fallback, options.shown, (value) => {
    const match = /^(\d+)\s*(?:(?:per|\/)\s*(.+))?$/i.exec(value)
    const max = match?.[1] === undefined ? Number.NaN : Number(match[1])
    const windowMs = match?.[2] === undefined ? 1000 : parseDuration(/^\d/.test(match[2]) ? match[2] : `1 ${match[2]}`)
    return Number.isSafeInteger(max) && max >= 1 && windowMs !== undefined ? ok({ max, windowMs }) : refused('must look like "1 per second" or "10 per minute"')
  })
}

function list (options: Options<string[]> & { form: string, each: (item: string) => string | undefined, upperCase?: boolean }): Setting<string[]> {
  return setting(options, options.form, [], '', (value) => {
    const items = value.split(',').map((item) => options.upperCase === true ? item.trim().toUpperCase() : item.trim()).filter((item) => item !== '')
    const problems = items.map(options.each).filter((problem) => problem !== undefined)
    return problems.length === 0 ? ok(items) : refused([...new Set(problems)].join('; '))
  })
}

/** Base64 or base64url text; undefined when it is neither. */
export function decodeBase64 (value: string): Buffer | undefined {
  const trimmed = value.trim()
  if (!/^[A-Za-z0-9+/_-]*={0,2}$/.test(trimmed)) return undefined
  return Buffer.from(trimmed, trimmed.includes('-') || trimmed.includes('_') ? 'base64url' : 'base64')
}

function base64Key (options: Options<string | undefined> & { minBytes: number }): Setting<string | undefined> {
  return setting(options, `base64 of at least ${options.minBytes} bytes`, undefined, '', (value) =>
    (decodeBase64(value)?.length ?? 0) >= options.minBytes ? ok(value) : refused(`must be base64 of at least ${options.minBytes} bytes`))
}

const randomBase64 = (): string => randomBytes(32).toString('base64')

/** Shortest accepted HMAC keys, in characters: as strong as JWT_SECRET's 32 bytes when random. */
export const MIN_SECRET_LENGTH = 32
export const TWILIO_MESSAGING_SERVICE = /^MG[0-9a-fA-F]{32}$/
const TWILIO_SENDER = /^(?:\+[1-9]\d{6,14}|MG[0-9a-fA-F]{32}|(?=.*[A-Za-z])[A-Za-z0-9 ]{1,11})$/
export const DEFAULT_AUTH_MESSAGE = '{code}\nWelcome to {org}! Use this one-time code to complete your signup.'
const HTTPS_ONLY = { https: true } as const

export const SETTINGS = {
  NODE_ENV: oneOf({ group: 'Server', doc: 'production refuses to start on any insecure default and lists everything missing', values: ['development', 'production'], fallback: 'development' }),
  PORT: int({ group: 'Server', doc: 'TCP port to listen on', fallback: 3000, min: 0, max: 65535 }),
  PUBLIC_URL: url({ group: 'Server', doc: 'the URL clients reach the service at (behind a proxy: the proxy\'s), for the OAuth metadata; unset: taken from each request', form: 'absolute URL', fallback: undefined }),
  HOST: text({ group: 'Server', doc: 'address to listen on (`0.0.0.0` in a container)', fallback: '127.0.0.1' }),
  WORKERS: int({ group: 'Server', doc: 'processes sharing the port (node:cluster, one per core); more than 1 needs MONGODB_URL and REDIS_URL, as the memory store and local rate-limit counters are per process', fallback: 1, min: 1, max: 64 }),
  LOG_LEVEL: oneOf({ group: 'Server', doc: 'pino level; secrets, tokens, codes and API keys are redacted, query strings are not logged', values: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], fallback: 'info' }),
  METRICS_TOKEN: text({ group: 'Server', doc: 'bearer token GET /metrics requires; unset: /metrics is open in development and absent in production', minLength: MIN_SECRET_LENGTH }),
  CORS_ORIGINS: list({ group: 'Server', doc: 'browser origins allowed to call the service (CORS); a preflight from any other origin is 403', form: 'origins such as `https://app.example.com`, comma-separated', each: originProblem, shown: 'empty (no CORS)' }),
  DOCS_ENABLED: bool({ group: 'Server', doc: 'serve Swagger UI at /docs (the OpenAPI document stays in openapi.yaml)', fallback: true }),
  LOG_FORMAT: oneOf({ group: 'Server', doc: '`auto`: readable lines with local times on a development terminal, JSON otherwise', values: ['auto', 'json', 'pretty'], fallback: 'auto' }),
  TRUST_PROXY: list({ group: 'Server', doc: 'proxies whose X-Forwarded-For is believed, so limits apply per real client; a blanket `true` is refused', form: 'IP addresses or CIDRs, comma-separated', each: proxyProblem }),

  WEBHOOKS_FILE: text({ group: 'Events', doc: 'webhook endpoints, each with its URL, signing secret and event types; unset: no events are sent', hint: 'path to a YAML or JSON file' }),
  WEBHOOK_MAX_ATTEMPTS: int({ group: 'Events', doc: 'attempts per delivery before it is marked failed', fallback: 10, min: 1, max: 50 }),
  WEBHOOK_RETRY_BASE_MS: int({ group: 'Events', doc: 'the first retry\'s delay; each next one doubles (at most an hour, ±20% jitter)', fallback: 5000, min: 10, max: 600_000, unit: 'milliseconds' }),

  MONGODB_URL: url({ group: 'Storage', doc: 'unset: the memory store, which loses everything on restart', form: 'MongoDB connection string', fallback: undefined, production: { required: true, why: 'the memory store loses data on restart' } }),
  MONGODB_DATABASE: text({ group: 'Storage', doc: 'database name', fallback: 'jwt_db' }),
  MEMORY_STORE_MAX_RECORDS: int({ group: 'Storage', doc: 'without MONGODB_URL: the memory store keeps at most this many verifications, App Verify transactions, refresh tokens and webhook deliveries each, the oldest dropped first, so its memory stays bounded (past 20 000, raise the heap limit in NODE_OPTIONS too)', fallback: 5_000, min: 100, max: 1_000_000 }),
  REDIS_URL: url({ group: 'Storage', doc: 'shared rate-limit counters for several instances; unreachable Redis fails closed with 503', form: 'Redis URL', fallback: undefined }),

  API_CLIENTS_FILE: text({ group: 'Server API keys', doc: 'named API clients with scopes and budgets (`npm run clients`), reloaded on change and on SIGHUP', hint: 'path to a YAML or JSON file' }),
  API_KEYS: list({ group: 'Server API keys', doc: 'keys backends send as `X-API-Key` to mint and administer', form: 'keys, comma-separated, at least 16 characters each', each: (key) => key.length < 16 ? 'every key must be at least 16 characters' : undefined, shown: 'generated and printed', generate: { make: () => `tm_dev_${randomBytes(24).toString('base64url')}`, when: { API_CLIENTS_FILE: null } }, production: { required: { API_CLIENTS_FILE: null }, why: 'or API_CLIENTS_FILE' } }),

  JWT_ALGORITHM: oneOf({ group: 'Mobile JWTs', doc: 'signing algorithm of minted JWTs', values: ['HS256', 'ES256', 'EdDSA'], fallback: 'HS256' }),
  JWT_SECRET: base64Key({ group: 'Mobile JWTs', doc: 'HS256 signing key', minBytes: 32, shown: 'generated (HS256 without a key file)', generate: { make: randomBase64, when: { JWT_ALGORITHM: 'HS256', JWT_KEYS_FILE: null } }, production: { required: { JWT_ALGORITHM: 'HS256', JWT_KEYS_FILE: null }, why: 'or JWT_KEYS_FILE' } }),
  JWT_KEYS_FILE: text({ group: 'Mobile JWTs', doc: 'JWKS with private keys: the first signs, all verify (ES256/EdDSA in development without it: a generated pair)', hint: 'path to a JWKS file', production: { required: { JWT_ALGORITHM: ['ES256', 'EdDSA'] } } }),
  JWT_EXPIRE_SECONDS: int({ group: 'Mobile JWTs', doc: 'lifetime of minted JWTs', fallback: 300, min: 10, max: 86_400, unit: 'seconds' }),
  JWT_ISSUER: text({ group: 'Mobile JWTs', doc: '`iss` of minted JWTs', fallback: 'tokenmint' }),
  JWT_AUDIENCE: text({ group: 'Mobile JWTs', doc: '`aud` of minted JWTs', fallback: 'tokenmint' }),
  REFRESH_TOKENS: bool({ group: 'Mobile JWTs', doc: 'device-bound, key-bound and login tokens come with a refresh token (rotated on every use, reuse ends the session)', fallback: true }),
  REFRESH_TOKEN_IDLE_SECONDS: int({ group: 'Mobile JWTs', doc: 'a refresh token unused this long is dead', fallback: 14 * 86_400, min: 60, max: 365 * 86_400, unit: 'seconds' }),
  REFRESH_TOKEN_MAX_SECONDS: int({ group: 'Mobile JWTs', doc: 'a session (refresh token family) ends this long after it started, however it is used', fallback: 90 * 86_400, min: 300, max: 730 * 86_400, unit: 'seconds' }),
  DPOP_NONCE: bool({ group: 'Mobile JWTs', doc: 'DPoP proofs must carry a server nonce (RFC 9449 section 8): one without a fresh nonce gets 401 `use_dpop_nonce` and a `DPoP-Nonce` header', fallback: false }),

  APPVERIFY_CUSTOMER_ID: text({ group: 'App Verify', doc: 'Telesign customer id, the token\'s `iss`', fallback: 'DEV-CUSTOMER-ID', shown: '`DEV-CUSTOMER-ID` (development only)', production: { required: true } }),
  APPVERIFY_API_KEY: base64Key({ group: 'App Verify', doc: 'HS256 key of App Verify tokens', minBytes: 16, shown: 'generated', generate: { make: randomBase64 }, production: { required: true } }),
  APPVERIFY_TOKEN_TTL: int({ group: 'App Verify', doc: 'token lifetime', fallback: 90, min: 1, max: 3600, unit: 'seconds' }),
  APPVERIFY_BACKDATE: int({ group: 'App Verify', doc: '`iat` set this far in the past, for clock skew', fallback: 10, min: 0, max: 300, unit: 'seconds' }),
  APPVERIFY_RATE_LIMIT: rate({ group: 'App Verify', doc: 'per client', fallback: { max: 1, windowMs: 1000 }, shown: '`1 per second`' }),
  APPVERIFY_PUBLIC: bool({ group: 'App Verify', doc: 'serve the token route without an API key', fallback: false }),

  PASSWORD_HASH_COST: int({ group: 'Users', doc: 'scrypt cost as log2 N (r=8, p=1): 15 is 32 MiB and about 0.1 to 0.2 s per hash; each hash records its cost, so raising it keeps old hashes working', fallback: 15, min: 10, max: 20, production: { atLeast: 15, why: 'OWASP\'s floor for scrypt' } }),

  CODE_LENGTH: int({ group: 'SMS verification', doc: 'digits in a one-time code', fallback: 6, min: 4, max: 10 }),
  CODE_EXPIRATION: int({ group: 'SMS verification', doc: 'code lifetime', fallback: 600, min: 1, max: 86_400, unit: 'seconds' }),
  RETRIES_ALLOWED: int({ group: 'SMS verification', doc: 'wrong codes before a verification is spent', fallback: 3, min: 1, max: 10 }),
  OTP_PEPPER: text({ group: 'SMS verification', doc: 'HMAC key codes are stored under', minLength: MIN_SECRET_LENGTH, shown: 'generated', generate: { make: randomBase64 }, production: { required: true } }),
  ORG_NAME: text({ group: 'SMS verification', doc: 'fills `{org}` in AUTH_MESSAGE', fallback: 'Your Organization Name' }),
  AUTH_MESSAGE: text({ group: 'SMS verification', doc: 'SMS text; holds `{code}` and may hold `{org}`', contains: '{code}', fallback: DEFAULT_AUTH_MESSAGE, shown: 'Flowroute\'s welcome text' }),
  SMS_RESEND_COOLDOWN: int({ group: 'SMS verification', doc: 'between sends for one auth_id', fallback: 30, min: 0, max: 3600, unit: 'seconds' }),
  SMS_MAX_SENDS: int({ group: 'SMS verification', doc: 'sends per auth_id', fallback: 5, min: 1, max: 100 }),
  SMS_RECIPIENT_HOURLY_LIMIT: int({ group: 'SMS verification', doc: 'accepted SMS per recipient in any 60-minute window, across auth_ids (SMS pumping)', fallback: 10, min: 1, max: 10_000 }),
  SMS_CHECK_RATE_LIMIT: rate({ group: 'SMS verification', doc: 'per client, on both check routes', fallback: { max: 10, windowMs: 60_000 }, shown: '`10 per minute`' }),
  SMS_ALLOWED_COUNTRIES: list({ group: 'SMS verification', doc: 'countries codes may be sent to; empty allows all', form: 'ISO 3166-1 alpha-2 codes, e.g. `US,CA`', upperCase: true, each: (code) => /^[A-Z]{2}$/.test(code) ? undefined : `"${code}" is not an ISO 3166-1 alpha-2 code`, shown: 'empty (all)' }),
  VERIFICATION_RETENTION: int({ group: 'SMS verification', doc: 'how long a finished verification stays readable', fallback: 86_400, min: 60, max: 30 * 86_400, unit: 'seconds' }),
  VERIFIED_TOKEN: bool({ group: 'SMS verification', doc: 'a successful check returns a JWT for the verified number', fallback: true }),

  FLOWROUTE_COMPAT: bool({ group: 'SMS verification', doc: 'serve Flowroute\'s sms-verification API as it is (POST and GET at FLOWROUTE_COMPAT_PREFIX) for its unmodified clients', fallback: false }),
  FLOWROUTE_COMPAT_PREFIX: text({ group: 'SMS verification', doc: 'where the Flowroute-compatible API is mounted', hint: 'a path such as `/flowroute`', pattern: /^\/[A-Za-z0-9._~-]+(?:\/[A-Za-z0-9._~-]+)*$/, fallback: '/flowroute' }),
  FLOWROUTE_COMPAT_ALLOW: list({ group: 'SMS verification', doc: 'source addresses that may call the Flowroute-compatible API without an API key (Flowroute\'s client sends none); others must send X-API-Key', form: 'IP addresses or CIDRs, comma-separated', each: cidrProblem, shown: 'empty: loopback only' }),

  SMS_PROVIDER: oneOf({ group: 'SMS providers', doc: '`console` prints codes (development only)', values: ['console', 'webhook', 'flowroute', 'twilio'], fallback: 'console', production: { refuse: { values: ['console'], why: 'prints codes' } } }),
  FLOWROUTE_ACCESS_KEY: text({ group: 'SMS providers', doc: 'Flowroute API access key', requiredWhen: { SMS_PROVIDER: 'flowroute' } }),
  FLOWROUTE_SECRET_KEY: text({ group: 'SMS providers', doc: 'Flowroute API secret key', requiredWhen: { SMS_PROVIDER: 'flowroute' } }),
  FLOWROUTE_NUMBER: text({ group: 'SMS providers', doc: 'Flowroute sender number', pattern: /^\+?1[2-9]\d{2}[2-9]\d{6}$/, hint: 'an 11-digit NANP number such as 12065550100 ("+" optional)', requiredWhen: { SMS_PROVIDER: 'flowroute' } }),
  FLOWROUTE_BASE_URL: url({ group: 'SMS providers', doc: 'Flowroute API base', form: 'https URL', fallback: 'https://api.flowroute.com', production: HTTPS_ONLY }),
  TWILIO_ACCOUNT_SID: text({ group: 'SMS providers', doc: 'Twilio account', pattern: /^AC[0-9a-fA-F]{32}$/, hint: '"AC" followed by 32 hexadecimal digits', requiredWhen: { SMS_PROVIDER: 'twilio' } }),
  TWILIO_AUTH_TOKEN: text({ group: 'SMS providers', doc: 'Twilio auth token', requiredWhen: { SMS_PROVIDER: 'twilio' } }),
  TWILIO_FROM: text({ group: 'SMS providers', doc: 'Twilio sender', pattern: TWILIO_SENDER, hint: 'an E.164 number (+12065550100), a messaging service SID (MG + 32 hex digits) or an alphanumeric sender ID (up to 11 letters, digits and spaces)', requiredWhen: { SMS_PROVIDER: 'twilio' } }),
  TWILIO_BASE_URL: url({ group: 'SMS providers', doc: 'Twilio API base', form: 'https URL', fallback: 'https://api.twilio.com', production: HTTPS_ONLY }),
  SMS_WEBHOOK_URL: url({ group: 'SMS providers', doc: 'where the webhook provider posts each SMS', form: 'https URL', fallback: undefined, requiredWhen: { SMS_PROVIDER: 'webhook' }, production: HTTPS_ONLY }),
  SMS_WEBHOOK_SECRET: text({ group: 'SMS providers', doc: 'HMAC key signing each webhook', minLength: MIN_SECRET_LENGTH, requiredWhen: { SMS_PROVIDER: 'webhook' } }),

  RATE_LIMIT_CLIENT: rate({ group: 'Rate limits', doc: 'per API client (X-API-Key): a backend calling for all its users', fallback: { max: 6000, windowMs: 60_000 }, shown: '`6000 per minute`' }),
  RATE_LIMIT_SUBJECT: rate({ group: 'Rate limits', doc: 'per access-token subject (`instance:<id>`, `user:<name>`, `client:<id>`, `phone:<number>`): one app or user, wherever it calls from', fallback: { max: 120, windowMs: 60_000 }, shown: '`120 per minute`' }),
  RATE_LIMIT_MAX: int({ group: 'Rate limits', doc: 'per client address on anonymous routes (login, JWKS, public App Verify, unknown URLs) and for failed authentication', fallback: 100, min: 1, max: 1_000_000 }),
  RATE_LIMIT_WINDOW: duration({ group: 'Rate limits', doc: 'the window of RATE_LIMIT_MAX', fallback: 60_000, shown: '`1 minute`' }),
  RATE_LIMIT_FLOOD: rate({ group: 'Rate limits', doc: 'per client address over everything, counted in each instance (never in Redis): a flood guard high enough for one carrier-NAT address carrying many phones', fallback: { max: 20_000, windowMs: 60_000 }, shown: '`20000 per minute`' }),
  RATE_LIMIT_BAN: setting<number | undefined>({ group: 'Rate limits', doc: 'after n more 429s in a window the client gets 403' }, '`off` or an integer 0..1000', undefined, '`off`', (value) => {
    if (value.toLowerCase() === 'off') return ok(undefined)
    return /^\d+$/.test(value) && Number(value) <= 1000 ? ok(Number(value)) : refused('must be an integer from 0 to 1000')
  })
} as const satisfies Record<string, Setting<unknown>>

function originProblem (entry: string): string | undefined {
  try {
    const url = new URL(entry)
    if ((url.protocol === 'https:' || url.protocol === 'http:') && url.origin === entry) return undefined
  } catch {}
  return `"${entry}" is not an origin such as https://app.example.com (scheme and host, no path; "*" is refused)`
}

function cidrProblem (entry: string): string | undefined {
  const [address, bits, ...rest] = entry.split('/')
  const family = isIP(address ?? '')
  const validBits = bits === undefined || (/^\d+$/.test(bits) && Number(bits) <= (family === 6 ? 128 : 32))
  return family === 0 || !validBits || rest.length > 0 ? `"${entry}" is not an IP address or CIDR` : undefined
}

function proxyProblem (entry: string): string | undefined {
  const [address, bits, ...rest] = entry.split('/')
  const family = isIP(address ?? '')
  const validBits = bits === undefined || (/^\d+$/.test(bits) && Number(bits) <= (family === 6 ? 128 : 32))
  return family === 0 || !validBits || rest.length > 0 ? `"${entry}" is not an IP address or CIDR (a blanket "true" is refused)` : undefined
}

export type SettingName = keyof typeof SETTINGS
/** Every setting's value, typed from the table. */
export type Settings = { -readonly [K in SettingName]: (typeof SETTINGS)[K] extends Setting<infer T> ? T : never }

export interface ReadResult {
  values: Settings
  problems: string[]
  /** Names whose value was generated for development. */
  generated: string[]
}

/**
 * Reads every setting from the environment and applies the table's rules, collecting every
 * problem. `secretFor` supplies development secrets (persisted by the caller).
 */
export function readSettings (env: Readonly<Record<string, string | undefined>>, secretFor: (name: string, make: () => string) => string): ReadResult {
  const problems: string[] = []
  const values: Record<string, unknown> = {}
  const raw: Record<string, string | undefined> = {}
  const entries = Object.entries(SETTINGS) as Array<[SettingName, Setting<unknown>]>
  for (const [name] of entries) {
    const value = env[name]?.trim()
    raw[name] = value === '' ? undefined : value
  }
  const production = raw.NODE_ENV === 'production'
  const read = (name: string, spec: Setting<unknown>, value: string | undefined): void => {
    if (value === undefined) {
      values[name] = spec.fallback
      return
    }
    const parsed = spec.parse(value)
    if (parsed.ok) values[name] = parsed.value
    else {
      problems.push(`${name}: ${parsed.problem}`)
      values[name] = spec.fallback
    }
  }
  for (const [name, spec] of entries) read(name, spec, raw[name])

  const holds = (condition: Condition): boolean => Object.entries(condition).every(([name, expected]) => {
    const actual = values[name]
    if (expected === null) return actual === undefined
    return typeof expected === 'string' ? actual === expected : expected.includes(String(actual))
  })

  const generated: string[] = []
  if (!production) {
    for (const [name, spec] of entries) {
      if (raw[name] !== undefined || spec.generate === undefined) continue
      if (spec.generate.when !== undefined && !holds(spec.generate.when)) continue
      read(name, spec, secretFor(name, spec.generate.make))
      generated.push(name)
    }
  }

  for (const [name, spec] of entries) {
    const unset = raw[name] === undefined && !generated.includes(name)
    if (unset && spec.requiredWhen !== undefined && holds(spec.requiredWhen)) {
      problems.push(`${name} is required when ${Object.entries(spec.requiredWhen).map(([key, value]) => `${key}=${String(value)}`).join(' and ')}`)
    }
    if (!production || spec.production === undefined) continue
    const { required, why, refuse, https, atLeast } = spec.production
    if (unset && required !== undefined && (required === true || holds(required))) {
      const reason = why === undefined ? '' : ` (${why})`
      const when = required === true ? '' : ` when ${Object.entries(required).map(([key, value]) => value === null ? `${key} is unset` : `${key}=${Array.isArray(value) ? value.join(' or ') : String(value)}`).join(' and ')}`
      problems.push(`${name} is required in production${when}${reason}`)
    }
    const value = values[name]
    if (refuse !== undefined && typeof value === 'string' && refuse.values.includes(value)) {
      problems.push(`${name}=${value} ${refuse.why} and is refused in production`)
    }
    if (https === true && typeof value === 'string' && value.startsWith('http:')) problems.push(`${name} must use https in production`)
    if (atLeast !== undefined && typeof value === 'number' && value < atLeast) problems.push(`${name} must be at least ${atLeast} in production${why === undefined ? '' : ` (${why})`}`)
  }
  return { values: values as Settings, problems, generated }
}
