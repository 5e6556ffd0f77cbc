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

/** An OpenAPI response object (a description and a problem+json body) in a route's response map. */
export function problemResponse (description: string, schema: TSchema): TSchema {
  return Type.Unsafe({ description, content: { 'application/problem+json': { schema: ref(schema) } } })
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

const PROBLEM_DESCRIPTIONS: Record<number, string> = {
  400: 'Malformed request (problem+json)',
  401: 'Missing or invalid credentials (problem+json)',
  403: 'Forbidden (problem+json)',
  404: 'Not found (problem+json)',
  409: 'Conflict (problem+json)',
  413: 'Body too large (problem+json)',
  415: 'Unsupported content type (problem+json)',
  429: 'Rate limited; see Retry-After (problem+json)',
  502: 'Upstream provider failed (problem+json)',
  503: 'A dependency is unavailable; see Retry-After (problem+json)'
}

/** Response entries for the problem statuses a route can answer, all pointing at the Problem component. */
export function problemResponses (...statuses: number[]): Record<number, TSchema> {
  const responses: Record<number, TSchema> = {}
  for (const status of statuses) {
    responses[status] = problemResponse(PROBLEM_DESCRIPTIONS[status] ?? 'Problem (problem+json)', ProblemSchema)
  }
  return responses
}

export const apiKeySecurity = [{ apiKey: [] }]
export const bearerSecurity = [{ bearerAuth: [] }]
export const keyOrBearerSecurity: Array<Record<string, string[]>> = [{ apiKey: [] }, { bearerAuth: [] }]
/** RFC 7009/7662 endpoints: an API client by X-API-Key or by HTTP Basic with its id and secret (RFC 6749 section 2.3.1). */
export const clientSecurity: Array<Record<string, string[]>> = [{ apiKey: [] }, { clientSecretBasic: [] }]
export const clientOrBearerSecurity: Array<Record<string, string[]>> = [{ apiKey: [] }, { clientSecretBasic: [] }, { bearerAuth: [] }]
