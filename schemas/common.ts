import { Type } from '@sinclair/typebox'
import type { Static, TSchema, TUnsafe } from '@sinclair/typebox'

/**
 * A reference to a registered schema by its $id: a `$ref` (a named component) in OpenAPI and the
 * schema's static type in handlers. (TypeBox 0.34 deprecates passing the schema to Type.Ref.)
 */
export function ref<T extends TSchema> (schema: T): TUnsafe<Static<T>> {
  if (schema.$id === undefined) throw new Error('ref() takes a schema with an $id')
  return Type.Unsafe<Static<T>>(Type.Ref(schema.$id))
}

/** RFC 9457 problem document; extra members (reason, attempts_left, ...) are allowed. */
export const ProblemSchema = Type.Object({
  type: Type.String({ description: 'URN naming the problem type', examples: ['urn:tokenmint:problem:invalid_api_key'] }),
  title: Type.String({ examples: ['Unauthorized'] }),
  status: Type.Integer({ examples: [401] }),
  detail: Type.String({ examples: ['The API key is not valid.'] }),
  code: Type.String({ description: 'Stable snake_case machine name', examples: ['invalid_api_key'] })
}, { $id: 'Problem', title: 'Problem', additionalProperties: true })
export type ProblemDoc = Static<typeof ProblemSchema>

export const HealthSchema = Type.Object({
  status: Type.Literal('ok'),
  version: Type.String({ description: 'The release (package.json, OpenAPI info)', examples: ['0.2.0'] }),
  store: Type.Optional(Type.Union([Type.Literal('memory'), Type.Literal('mongodb')])),
  redis: Type.Optional(Type.Literal('ok', { description: 'With REDIS_URL: the shared rate-limit counters answer' }))
}, { $id: 'Health', title: 'Health', additionalProperties: false })

export const ServiceIndexSchema = Type.Object({
  name: Type.Literal('tokenmint'),
  version: Type.String(),
  openapi: Type.String(),
  health: Type.String(),
  jwks: Type.String()
}, { $id: 'ServiceIndex', title: 'ServiceIndex', additionalProperties: false })

/** A response header: its schema with a description (@fastify/swagger moves the description up to the header object). */
type HeaderObject = Record<string, unknown> & { description: string }

const integerHeader = (description: string): HeaderObject => ({ type: 'integer', minimum: 0, description })
const RETRY_AFTER = integerHeader('Seconds to wait before retrying')
/** The draft IETF RateLimit fields @fastify/rate-limit sends (enableDraftSpec). */
export const RATE_LIMIT_HEADERS: Record<string, HeaderObject> = {
  'RateLimit-Limit': integerHeader('Requests allowed in the current window of the budget that applies'),
  'RateLimit-Remaining': integerHeader('Requests left in that window'),
  'RateLimit-Reset': integerHeader('Seconds until the window resets')
}

interface ProblemStatus { description: string, code: string, detail: string, headers?: Record<string, HeaderObject> }

/** What each problem status means here, with a typical example and the headers it carries. */
const PROBLEM_STATUSES: Record<number, ProblemStatus> = {
  400: { description: 'Malformed request (also any request without a Host header or with malformed HTTP framing)', code: 'invalid_request', detail: 'body must have required property \'token\'.' },
  401: {
    description: 'Missing or invalid credentials; WWW-Authenticate names the scheme for tokens (Bearer, DPoP) and HTTP Basic',
    code: 'invalid_api_key',
    detail: 'The API key is not valid.',
    headers: { 'WWW-Authenticate': { type: 'string', description: 'The challenge (RFC 9110 section 11.6.1; RFC 9449 for DPoP, with error and algs)' } }
  },
  403: { description: 'The API client lacks the scope for this route (insufficient_scope), or is banned for now after going over its limit (rate_limit_banned, with RATE_LIMIT_BAN)', code: 'insufficient_scope', detail: 'This API client may not call mint routes (its scopes: verify).' },
  404: { description: 'Not found', code: 'not_found', detail: 'No App Verify token was issued with this xid.' },
  405: {
    description: 'Another method than GET on this path',
    code: 'method_not_allowed',
    detail: 'Only GET is allowed here.',
    headers: { Allow: { type: 'string', enum: ['GET'], description: 'The methods this path allows' } }
  },
  409: { description: 'Conflict', code: 'conflict', detail: 'The resource already exists.' },
  413: { description: 'Body too large', code: 'payload_too_large', detail: 'The request body is too large.' },
  414: { description: 'A path segment is longer than 256 characters', code: 'uri_too_long', detail: 'The request was rejected (URI Too Long).' },
  415: { description: 'Unsupported content type', code: 'unsupported_media_type', detail: 'Send the body as application/json.' },
  429: {
    description: 'Rate limited: `limit` names the budget; Retry-After says when to retry',
    code: 'rate_limited',
    detail: 'Too many requests for the client budget (6000 per 60 s); retry in 12 s.',
    headers: { 'Retry-After': RETRY_AFTER, ...RATE_LIMIT_HEADERS }
  },
  502: { description: 'The SMS provider did not accept the message', code: 'sms_delivery_failed', detail: 'The SMS provider did not accept the message; no verification was left pending. Try again.' },
  503: {
    description: 'A dependency (the store, Redis) is unavailable, or the service is shutting down; Retry-After says when to retry',
    code: 'store_unavailable',
    detail: 'The data store is temporarily unavailable; try again shortly.',
    headers: { 'Retry-After': RETRY_AFTER }
  }
}

const TITLES: Record<number, string> = {
  400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 405: 'Method Not Allowed', 409: 'Conflict', 413: 'Payload Too Large', 414: 'URI Too Long', 415: 'Unsupported Media Type', 429: 'Too Many Requests', 502: 'Bad Gateway', 503: 'Service Unavailable'
}

/** An example problem document for a status (or a given code and detail). */
export function problemExample (status: number, code?: string, detail?: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  const known = PROBLEM_STATUSES[status]
  const name = code ?? known?.code ?? 'invalid_request'
  return { type: `urn:tokenmint:problem:${name}`, title: TITLES[status] ?? 'Error', status, detail: detail ?? known?.detail ?? 'The request was rejected.', code: name, ...extra }
}

/**
 * An OpenAPI response object for a problem status: its description, the headers that status
 * carries, and a problem+json body with an example of its own.
 */
export function problemResponse (status: number, options: { description?: string, schema?: TSchema, example?: Record<string, unknown> } = {}): TSchema {
  const known = PROBLEM_STATUSES[status]
  return Type.Unsafe({
    description: `${options.description ?? known?.description ?? 'Problem'} (problem+json)`,
    ...(known?.headers === undefined ? {} : { headers: known.headers }),
    content: { 'application/problem+json': { schema: ref(options.schema ?? ProblemSchema), example: options.example ?? problemExample(status) } }
  })
}

/** RFC 6749 section 5.2 error body, what OAuth libraries read on the RFC 7009/7662 endpoints. */
export const OAuthErrorSchema = Type.Object({
  error: Type.Union([
    Type.Literal('invalid_request'), Type.Literal('invalid_client'), Type.Literal('unauthorized_client'),
    Type.Literal('unsupported_token_type'), Type.Literal('temporarily_unavailable'), Type.Literal('server_error'),
    Type.Literal('invalid_grant'), Type.Literal('unsupported_grant_type'), Type.Literal('invalid_dpop_proof'), Type.Literal('use_dpop_nonce')
  ]),
  error_description: Type.String()
}, { $id: 'OAuthError', title: 'OAuthError', additionalProperties: false })

const OAUTH_ERRORS: Record<number, string> = { 401: 'invalid_client', 403: 'unauthorized_client', 429: 'temporarily_unavailable', 503: 'temporarily_unavailable' }

/**
 * Problem statuses of the RFC 7009/7662 endpoints: problem+json for JSON clients, and an OAuth
 * error body as application/json for OAuth clients (form bodies or HTTP Basic).
 */
export function oauthProblemResponses (...statuses: number[]): Record<number, TSchema> {
  const responses: Record<number, TSchema> = {}
  for (const status of statuses) {
    const problem = problemResponse(status) as unknown as { description: string, content: Record<string, unknown> }
    const example = { error: OAUTH_ERRORS[status] ?? 'invalid_request', error_description: String(problemExample(status).detail) }
    responses[status] = Type.Unsafe({
      ...problem,
      description: `${problem.description}; OAuth clients get an OAuth error (application/json)`,
      content: { ...problem.content, 'application/json': { schema: ref(OAuthErrorSchema), example } }
    })
  }
  return responses
}

/** Response entries for the problem statuses a route can answer, all pointing at the Problem component. */
export function problemResponses (...statuses: number[]): Record<number, TSchema> {
  const responses: Record<number, TSchema> = {}
  for (const status of statuses) responses[status] = problemResponse(status)
  return responses
}

/** A success response: a description, the body's component and the headers it carries (docs only; the schema still serializes). */
export function okResponse (description: string, schema: TSchema, headers: Record<string, HeaderObject> = {}): TSchema {
  return Type.Unsafe<Static<typeof schema>>({
    description,
    ...(Object.keys(headers).length === 0 ? {} : { headers }),
    content: { 'application/json': { schema: ref(schema) } }
  })
}

export const apiKeySecurity = [{ apiKey: [] }]
/** A token as `Bearer`, or a key-bound one as `DPoP` with a proof (RFC 9449); the auth hook treats both alike. */
export const bearerSecurity: Array<Record<string, string[]>> = [{ bearerAuth: [] }, { dpopAuth: [] }]
export const keyOrBearerSecurity: Array<Record<string, string[]>> = [{ apiKey: [] }, ...bearerSecurity]
/** RFC 7009/7662 endpoints: an API client by X-API-Key or by HTTP Basic with its id and secret (RFC 6749 section 2.3.1). */
export const clientSecurity: Array<Record<string, string[]>> = [{ apiKey: [] }, { clientSecretBasic: [] }]
export const clientOrBearerSecurity: Array<Record<string, string[]>> = [...clientSecurity, ...bearerSecurity]
