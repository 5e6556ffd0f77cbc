// Typed client for the tokenmint API: types generated from openapi.yaml (client/openapi-types.ts),
// a thin fetch wrapper on top. Works in Node >= 20, browsers and React Native (global fetch).
import type { components, paths } from './openapi-types.js'

type Method = 'get' | 'post' | 'delete'

/** The operation object the generator wrote for `path` and `method`. */
type Operation<P extends keyof paths, M extends Method> = NonNullable<paths[P][M]>

/** The JSON request body of an operation. */
export type RequestBody<P extends keyof paths, M extends Method> =
  Operation<P, M> extends { requestBody?: { content: { 'application/json': infer B } } } ? B : never

/** The JSON body of an operation's success answer (200 or 201). */
export type ResponseBody<P extends keyof paths, M extends Method> =
  Operation<P, M> extends { responses: infer R }
    ? R extends { 200: { content: { 'application/json': infer B } } }
      ? B
      : R extends { 201: { content: { 'application/json': infer B } } } ? B : never
    : never

/** The query parameters of an operation. */
export type QueryParams<P extends keyof paths, M extends Method> =
  Operation<P, M> extends { parameters: { query?: infer Q } } ? NonNullable<Q> : never

/** Every problem+json body: the RFC 9457 members, plus the Flowroute members of verification answers. */
export type Problem = components['schemas']['Problem'] & Partial<components['schemas']['VerificationProblem']>

export type GenJwtRequest = RequestBody<'/gen-jwt', 'post'>
export type TokenResponse = ResponseBody<'/gen-jwt', 'post'>
export type MeResponse = ResponseBody<'/v1/me', 'get'>
export type AppVerifyToken = ResponseBody<'/v1/token/{phone_number}', 'get'>
export type Transaction = ResponseBody<'/v1/transactions/{xid}', 'get'>
export type TransactionsQuery = QueryParams<'/v1/transactions', 'get'>
export type TransactionList = ResponseBody<'/v1/transactions', 'get'>
export type StartVerificationRequest = RequestBody<'/v1/verifications', 'post'>
export type VerificationStarted = ResponseBody<'/v1/verifications', 'post'>
export type CheckVerificationRequest = RequestBody<'/v1/verifications/check', 'post'>
export type VerificationApproved = ResponseBody<'/v1/verifications/check', 'post'>
export type Verification = ResponseBody<'/v1/verifications/{auth_id}', 'get'>
export type CheckVerificationQuery = QueryParams<'/v1/verifications', 'get'>
export type Credentials = RequestBody<'/v1/users', 'post'>
export type LoginRequest = RequestBody<'/v1/auth/login', 'post'>
export type User = ResponseBody<'/v1/users', 'post'>
export type LoginResponse = ResponseBody<'/v1/auth/login', 'post'>
export type RevocationResponse = ResponseBody<'/v1/tokens/revoke', 'post'>
export type Introspection = ResponseBody<'/v1/tokens/introspect', 'post'>
export type Jwks = ResponseBody<'/.well-known/jwks.json', 'get'>
export type Health = ResponseBody<'/health/live', 'get'>
export type ServiceIndex = ResponseBody<'/', 'get'>
export type AuthorizationServerMetadata = ResponseBody<'/.well-known/oauth-authorization-server', 'get'>
export type PasswordChange = RequestBody<'/v1/auth/password', 'post'>
export type PasswordReset = RequestBody<'/v1/users/{username}/password', 'post'>
export type WebhookDeliveriesQuery = QueryParams<'/v1/webhooks/deliveries', 'get'>
export type WebhookDeliveryList = ResponseBody<'/v1/webhooks/deliveries', 'get'>
export type TokenGrantRequest = RequestBody<'/oauth/token', 'post'>
export type OAuthTokenResponse = ResponseBody<'/oauth/token', 'post'>

/**
 * Every failure: a problem+json answer (status, code and the problem's members), an answer that is
 * not problem+json (code `unexpected_response`) or no answer at all (status 0, code `network_error`,
 * the fetch error as `cause`). One class to catch, one `code` to switch on.
 */
export class TokenmintError extends Error {
  override readonly name = 'TokenmintError'
  /** HTTP status; 0 when no answer arrived. */
  readonly status: number
  /** The problem's stable snake_case code, `unexpected_response` or `network_error`. */
  readonly code: string
  /** Flowroute reason of verification answers (`InvalidAuthCode`, `ExpiredAuthCode`, ...). */
  readonly reason: string | undefined
  /** Wrong codes still allowed for this verification, where the service knows it. */
  readonly attemptsLeft: number | undefined
  /** Seconds to wait (Retry-After of 429 and 503 answers). */
  readonly retryAfter: number | undefined
  /** The parsed problem+json body; undefined when the answer was not one. */
  readonly problem: Problem | undefined

  constructor (status: number, code: string, message: string, options: { problem?: Problem, retryAfter?: number, cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause })
    this.status = status
    this.code = code
    this.problem = options.problem
    this.reason = options.problem?.reason
    this.attemptsLeft = options.problem?.attempts_left
    this.retryAfter = options.retryAfter
  }
}

export interface ClientOptions {
  /** Where the service answers, e.g. `https://tokens.example.com` (no trailing path needed). */
  baseUrl: string
  /** Server-to-server API key (X-API-Key). Never ship it in an app. */
  apiKey?: string
  /** An access token from genJwt, login or checkVerification (Authorization: Bearer). */
  token?: string
  /** The app instance a device-bound token was minted for (X-Instance-Id). */
  instanceId?: string
  /** A fetch implementation; the global fetch by default. */
  fetch?: typeof globalThis.fetch
}

interface Call {
  method: 'GET' | 'POST' | 'DELETE'
  path: string
  query?: Record<string, string | number | undefined>
  body?: unknown
}

function retryAfterSeconds (header: string | null): number | undefined {
  if (header === null) return undefined
  const seconds = Number(header)
  if (Number.isFinite(seconds)) return seconds
  const date = Date.parse(header)
  return Number.isNaN(date) ? undefined : Math.max(0, Math.ceil((date - Date.now()) / 1000))
}

const segment = (value: string): string => encodeURIComponent(value)

function parseOAuthError (text: string): { error: string, error_description?: string } | undefined {
  try {
    const body = JSON.parse(text) as { error?: unknown, error_description?: unknown }
    if (typeof body.error !== 'string') return undefined
    return { error: body.error, ...(typeof body.error_description === 'string' ? { error_description: body.error_description } : {}) }
  } catch {
    return undefined
  }
}

/**
 * What createClient returns; every method throws TokenmintError on failure. Each method is named
 * after its operation's operationId in openapi.yaml (a test checks that every operation has one).
 */
export interface TokenmintClient {
  /** A client authorised as a mobile SDK is: Bearer token plus X-Instance-Id, no API key. */
  withToken: (token: string, instanceId?: string) => TokenmintClient
  /** GET / with DOCS_ENABLED=false: the service's version and links (with Swagger UI on, GET / redirects to /docs). */
  serviceIndex: () => Promise<ServiceIndex>
  /** POST /gen-jwt (API key): a short-lived access token, bound to `instance_id` when given. */
  genJwt: (body?: GenJwtRequest) => Promise<TokenResponse>
  /** GET /v1/me (Bearer): the verified claims of this client's token. */
  me: () => Promise<MeResponse>
  /** GET /v1/token/{phone} (API key or Bearer): an App Verify token in its JSON form, with a fresh xid. */
  appVerifyToken: (phoneNumber: string) => Promise<AppVerifyToken>
  /** GET /v1/token/{phone}/{xid} (API key or Bearer): an App Verify token for your transaction id. */
  appVerifyTokenForXid: (phoneNumber: string, xid: string) => Promise<AppVerifyToken>
  /** GET /v1/transactions/{xid} (API key): one App Verify transaction. */
  transaction: (xid: string) => Promise<Transaction>
  /** GET /v1/transactions (API key): a phone number's transactions, newest first; pass next_cursor on as cursor. */
  transactions: (query: TransactionsQuery) => Promise<TransactionList>
  /** POST /v1/verifications (Flowroute create_auth): send a code by SMS, or resend it. */
  createVerification: (body: StartVerificationRequest) => Promise<VerificationStarted>
  /** POST /v1/verifications/check (Flowroute authenticate_code): a wrong code throws 400 with reason and attemptsLeft. */
  checkVerification: (body: CheckVerificationRequest) => Promise<VerificationApproved>
  /** GET /v1/verifications?auth_id=&code=: Flowroute's query form of checkVerification (prefer checkVerification). */
  checkVerificationByQuery: (query: CheckVerificationQuery) => Promise<VerificationApproved>
  /** GET /v1/verifications/{auth_id} (API key): a verification's status. */
  verificationStatus: (authId: string) => Promise<Verification>
  /** DELETE /v1/verifications/{auth_id} (API key): a pending verification's code stops working. */
  cancelVerification: (authId: string) => Promise<void>
  /** POST /v1/users (API key): a user who can log in. */
  createUser: (body: Credentials) => Promise<User>
  /** DELETE /v1/users/{username} (API key): tokens already issued to the user stop working. */
  deleteUser: (username: string) => Promise<void>
  /** POST /v1/auth/password (a login token): a new password; every other session of the user ends, this one gets new tokens. */
  changePassword: (body: PasswordChange) => Promise<LoginResponse>
  /** POST /v1/users/{username}/password (API key, accounts scope): set a user's password; every session of the user ends. */
  resetPassword: (username: string, body: PasswordReset) => Promise<void>
  /** POST /v1/auth/login (no credentials needed): an access token for a user. */
  login: (body: LoginRequest) => Promise<LoginResponse>
  /** POST /v1/tokens/revoke (API key or Bearer, RFC 7009): always succeeds, whatever the token. */
  revoke: (token: string) => Promise<RevocationResponse>
  /** POST /v1/tokens/introspect (API key, RFC 7662): `active` and the claims. */
  introspect: (token: string) => Promise<Introspection>
  /** GET /.well-known/jwks.json: the public verification keys. */
  jwks: () => Promise<Jwks>
  /** GET /health/live: the process answers. */
  health: () => Promise<Health>
  /** GET /health/ready: the store (and Redis) answer; throws 503 store_unavailable when the store is down. */
  ready: () => Promise<Health>
  /**
   * POST /oauth/token (RFC 6749): refresh a session (`{ grant_type: 'refresh_token', refresh_token }`, with the
   * client's X-Instance-Id for a device-bound session), or client credentials with the API key. Errors are
   * OAuth errors: the TokenmintError's code is their `error` (invalid_grant, ...).
   */
  token: (body: TokenGrantRequest) => Promise<OAuthTokenResponse>
  /** GET /v1/webhooks/deliveries (API key, events scope): the webhook delivery log, newest first. */
  webhookDeliveries: (query?: WebhookDeliveriesQuery) => Promise<WebhookDeliveryList>
  /** GET /.well-known/oauth-authorization-server: where the OAuth endpoints are (RFC 8414). */
  authorizationServerMetadata: () => Promise<AuthorizationServerMetadata>
}

export function createClient (options: ClientOptions): TokenmintClient {
  const base = options.baseUrl.replace(/\/+$/, '')
  const fetchImpl = options.fetch ?? globalThis.fetch
  const credentials: Record<string, string> = {}
  if (options.apiKey !== undefined) credentials['x-api-key'] = options.apiKey
  if (options.token !== undefined) credentials.authorization = `Bearer ${options.token}`
  if (options.instanceId !== undefined) credentials['x-instance-id'] = options.instanceId

  async function send (call: Call): Promise<Response> {
    const url = new URL(base + call.path)
    for (const [name, value] of Object.entries(call.query ?? {})) if (value !== undefined) url.searchParams.set(name, String(value))
    const headers: Record<string, string> = { accept: 'application/json', ...credentials }
    if (call.body !== undefined) headers['content-type'] = 'application/json'
    let response: Response
    try {
      response = await fetchImpl(url, { method: call.method, headers, ...(call.body === undefined ? {} : { body: JSON.stringify(call.body) }) })
    } catch (error) {
      throw new TokenmintError(0, 'network_error', `${call.method} ${call.path}: ${error instanceof Error ? error.message : String(error)}`, { cause: error })
    }
    if (response.ok) return response
    const retryAfter = retryAfterSeconds(response.headers.get('retry-after'))
    const text = await response.text()
    const contentType = response.headers.get('content-type') ?? ''
    if (contentType.startsWith('application/problem+json')) {
      const problem = JSON.parse(text) as Problem
      throw new TokenmintError(response.status, problem.code, problem.detail, { problem, ...(retryAfter === undefined ? {} : { retryAfter }) })
    }
    // The token endpoint answers OAuth errors (RFC 6749 section 5.2): their error is the code.
    const oauth = contentType.startsWith('application/json') ? parseOAuthError(text) : undefined
    if (oauth !== undefined) throw new TokenmintError(response.status, oauth.error, oauth.error_description ?? oauth.error, retryAfter === undefined ? {} : { retryAfter })
    throw new TokenmintError(response.status, 'unexpected_response', `${call.method} ${call.path} answered ${response.status} without a problem+json body`,
      retryAfter === undefined ? {} : { retryAfter })
  }

  async function json<T> (call: Call): Promise<T> {
    return await (await send(call)).json() as T
  }

  async function empty (call: Call): Promise<void> {
    await (await send(call)).arrayBuffer()
  }

  return {
    withToken (token: string, instanceId?: string) {
      return createClient({ baseUrl: base, token, ...(instanceId === undefined ? {} : { instanceId }), ...(options.fetch === undefined ? {} : { fetch: options.fetch }) })
    },
    serviceIndex: async (): Promise<ServiceIndex> => await json({ method: 'GET', path: '/' }),
    genJwt: async (body: GenJwtRequest = {}): Promise<TokenResponse> => await json({ method: 'POST', path: '/gen-jwt', body }),
    me: async (): Promise<MeResponse> => await json({ method: 'GET', path: '/v1/me' }),
    appVerifyToken: async (phoneNumber: string): Promise<AppVerifyToken> => await json({ method: 'GET', path: `/v1/token/${segment(phoneNumber)}` }),
    appVerifyTokenForXid: async (phoneNumber: string, xid: string): Promise<AppVerifyToken> =>
      await json({ method: 'GET', path: `/v1/token/${segment(phoneNumber)}/${segment(xid)}` }),
    transaction: async (xid: string): Promise<Transaction> => await json({ method: 'GET', path: `/v1/transactions/${segment(xid)}` }),
    transactions: async (query: TransactionsQuery): Promise<TransactionList> =>
      await json({ method: 'GET', path: '/v1/transactions', query: { ...query } }),
    createVerification: async (body: StartVerificationRequest): Promise<VerificationStarted> =>
      await json({ method: 'POST', path: '/v1/verifications', body }),
    checkVerification: async (body: CheckVerificationRequest): Promise<VerificationApproved> =>
      await json({ method: 'POST', path: '/v1/verifications/check', body }),
    checkVerificationByQuery: async (query: CheckVerificationQuery): Promise<VerificationApproved> =>
      await json({ method: 'GET', path: '/v1/verifications', query: { ...query } }),
    verificationStatus: async (authId: string): Promise<Verification> => await json({ method: 'GET', path: `/v1/verifications/${segment(authId)}` }),
    cancelVerification: async (authId: string): Promise<void> => { await empty({ method: 'DELETE', path: `/v1/verifications/${segment(authId)}` }) },
    createUser: async (body: Credentials): Promise<User> => await json({ method: 'POST', path: '/v1/users', body }),
    deleteUser: async (username: string): Promise<void> => { await empty({ method: 'DELETE', path: `/v1/users/${segment(username)}` }) },
    changePassword: async (body: PasswordChange): Promise<LoginResponse> => await json({ method: 'POST', path: '/v1/auth/password', body }),
    resetPassword: async (username: string, body: PasswordReset): Promise<void> => { await empty({ method: 'POST', path: `/v1/users/${segment(username)}/password`, body }) },
    login: async (body: LoginRequest): Promise<LoginResponse> => await json({ method: 'POST', path: '/v1/auth/login', body }),
    revoke: async (token: string): Promise<RevocationResponse> => await json({ method: 'POST', path: '/v1/tokens/revoke', body: { token } }),
    introspect: async (token: string): Promise<Introspection> => await json({ method: 'POST', path: '/v1/tokens/introspect', body: { token } }),
    jwks: async (): Promise<Jwks> => await json({ method: 'GET', path: '/.well-known/jwks.json' }),
    health: async (): Promise<Health> => await json({ method: 'GET', path: '/health/live' }),
    ready: async (): Promise<Health> => await json({ method: 'GET', path: '/health/ready' }),
    token: async (body: TokenGrantRequest): Promise<OAuthTokenResponse> => await json({ method: 'POST', path: '/oauth/token', body }),
    webhookDeliveries: async (query: WebhookDeliveriesQuery = {}): Promise<WebhookDeliveryList> => await json({ method: 'GET', path: '/v1/webhooks/deliveries', query: { ...query } }),
    authorizationServerMetadata: async (): Promise<AuthorizationServerMetadata> => await json({ method: 'GET', path: '/.well-known/oauth-authorization-server' })
  }
}
