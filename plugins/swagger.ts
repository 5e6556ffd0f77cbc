import fp from 'fastify-plugin'
import fastifySwagger from '@fastify/swagger'
import fastifySwaggerUi from '@fastify/swagger-ui'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { VERSION } from '../lib/version.js'

export const OPENAPI_INFO = {
  title: 'tokenmint',
  version: VERSION,
  description: [
    'Self-hosted token and phone-verification service.',
    '',
    '1. **Authorize** with your API key (`apiKey`; the development key is printed when the service starts).',
    '2. Try **POST /gen-jwt** with `{"instance_id": "123445"}` (device-bound) or `{}` (generic).',
    '3. **Authorize** again with the token as `bearerAuth` and try **GET /v1/me**',
    '   (for a device-bound token, fill in the `X-Instance-Id` header).',
    '4. Or create a user with **POST /v1/users** (apiKey) and log in with **POST /v1/auth/login** (no auth);',
    '   revoke and introspect tokens under **tokens**.',
    '',
    'Errors are RFC 9457 `application/problem+json` with a stable `code`.'
  ].join('\n'),
  contact: { name: 'The operators of this tokenmint instance' },
  license: { name: 'MIT' }
}

/** Where `npm start` serves on development defaults; Swagger UI is given the address it was loaded from instead. */
export const DEVELOPMENT_SERVER = { url: 'http://127.0.0.1:3000', description: '`npm start` on development defaults' }

/** Request headers every route that takes a token accepts, shown as fields in Swagger UI (the auth hook reads them). */
const TOKEN_HEADERS = {
  'x-instance-id': { type: 'string', maxLength: 256, description: 'The app instance a device-bound token (instance_id) was minted for; required with such a token' },
  dpop: { type: 'string', maxLength: 4096, description: 'RFC 9449 proof for a key-bound token sent as `Authorization: DPoP <token>`; required with such a token' }
}

interface RouteSchema {
  security?: Array<Record<string, unknown>>
  headers?: { type?: string, properties?: Record<string, unknown> }
  [key: string]: unknown
}

/** Adds the token headers to the documented request headers of every operation that accepts a token. */
export function documentTokenHeaders (schema: RouteSchema | undefined): RouteSchema | undefined {
  if (schema?.security?.some((requirement) => 'bearerAuth' in requirement) !== true) return schema
  const headers = schema.headers ?? {}
  return { ...schema, headers: { type: 'object', ...headers, properties: { ...TOKEN_HEADERS, ...headers.properties } } }
}

interface OpenApiOperation {
  requestBody?: { required?: boolean, content?: Record<string, { schema?: { $ref?: string }, examples?: unknown }> }
  'x-body-optional'?: boolean
}

interface OpenApiDocument {
  components?: { schemas?: Record<string, Record<string, unknown>> }
  paths?: Record<string, Record<string, OpenApiOperation>>
}

/** A route that declares `x-body-optional` accepts a request without a body (POST /gen-jwt): its requestBody is not required. */
export function markOptionalBodies (document: OpenApiDocument): OpenApiDocument {
  for (const operations of Object.values(document.paths ?? {})) {
    for (const operation of Object.values(operations)) {
      if (operation['x-body-optional'] !== true) continue
      delete operation['x-body-optional']
      if (operation.requestBody !== undefined) operation.requestBody.required = false
    }
  }
  return document
}

/**
 * Named request examples ("x-request-examples" on a component schema) belong on the request's
 * media type, where Swagger UI offers them as a drop-down; @fastify/swagger keeps only one.
 */
export function moveRequestExamples (document: OpenApiDocument): OpenApiDocument {
  const schemas = document.components?.schemas ?? {}
  for (const operations of Object.values(document.paths ?? {})) {
    for (const operation of Object.values(operations)) {
      for (const media of Object.values(operation.requestBody?.content ?? {})) {
        const name = media.schema?.$ref?.replace('#/components/schemas/', '')
        const examples = name === undefined ? undefined : schemas[name]?.['x-request-examples']
        if (examples !== undefined) media.examples = examples
      }
    }
  }
  for (const schema of Object.values(schemas)) delete schema['x-request-examples']
  return document
}

/**
 * OpenAPI document and Swagger UI at /docs. Registered before the routes: @fastify/swagger
 * collects them through onRoute. Components are named after each schema's $id.
 */
async function swaggerPlugin (fastify: FastifyInstance): Promise<void> {
  await fastify.register(fastifySwagger, {
    openapi: {
      openapi: '3.0.3',
      info: OPENAPI_INFO,
      servers: [DEVELOPMENT_SERVER],
      tags: [
        { name: 'mobile', description: 'Mobile authorization: mint and use access tokens' },
        { name: 'appverify', description: 'Telesign App Verify tokens and their transactions' },
        { name: 'verification', description: 'SMS verification (Flowroute-compatible, hardened)' },
        { name: 'auth', description: 'Users and password login' },
        { name: 'tokens', description: 'Token lifecycle: revocation (RFC 7009) and introspection (RFC 7662)' },
        { name: 'keys', description: 'Public verification keys (JWKS)' },
        { name: 'events', description: 'Signed webhooks: the delivery log' },
        { name: 'health', description: 'Liveness and readiness' },
        ...(fastify.config.sms.flowrouteCompat.enabled ? [{ name: 'flowroute', description: 'Flowroute\'s sms-verification API, for its unmodified clients (FLOWROUTE_COMPAT)' }] : [])
      ],
      components: {
        securitySchemes: {
          apiKey: { type: 'apiKey', in: 'header', name: 'X-API-Key', description: 'Server-to-server API key (API_KEYS)' },
          bearerAuth: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: 'Access token from /gen-jwt or login (paste the token alone: Swagger UI adds "Bearer ")' },
          dpopAuth: { type: 'http', scheme: 'DPoP', description: 'A key-bound access token (dpop_jkt) as `Authorization: DPoP <token>`, with a fresh `DPoP` proof header per request (RFC 9449)' },
          clientSecretBasic: { type: 'http', scheme: 'basic', description: 'An API client\'s id and secret (RFC 6749 client_secret_basic), for the OAuth revocation and introspection endpoints; an API_KEYS key\'s id is its key id' }
        }
      }
    },
    // A prefix's "/" route (the Flowroute mount) is documented at the prefix itself: one path, no trailing slash.
    transform: ({ schema, url }) => ({
      schema: documentTokenHeaders(schema as RouteSchema | undefined) as never,
      url: url.length > 1 && url.endsWith('/') ? url.slice(0, -1) : url
    }),
    transformObject: (documentObject) => markOptionalBodies(moveRequestExamples(
      (documentObject as { openapiObject: OpenApiDocument }).openapiObject
    )) as never,
    refResolver: {
      buildLocalReference (json, _baseUri, _fragment, i) {
        return typeof json.$id === 'string' ? json.$id : `def-${i}`
      }
    }
  })

  if (!fastify.config.docsEnabled) return
  await fastify.register(fastifySwaggerUi, {
    routePrefix: '/docs',
    uiConfig: {
      persistAuthorization: true,
      tryItOutEnabled: true,
      displayRequestDuration: true,
      docExpansion: 'list',
      deepLinking: true
    },
    // The CSP is set per request (below) rather than by staticCSP, whose fixed policy upgrades every asset to https.
    staticCSP: false,
    // Try it out calls the address the page was loaded from (PUBLIC_URL behind a proxy), not the development default.
    transformSpecification: (specification, request) => ({
      ...specification,
      servers: [{ url: fastify.config.publicUrl ?? `${request.protocol}://${request.host}`, description: 'This service' }]
    }),
    transformSpecificationClone: true,
    uiHooks: {
      onRequest: async (request: FastifyRequest, reply: FastifyReply) => {
        reply.header('content-security-policy', docsCsp(fastify.swaggerCSP, request.protocol === 'https'))
      }
    }
  })
}

/**
 * @fastify/swagger-ui's own policy, with `upgrade-insecure-requests` only over HTTPS: over plain HTTP
 * on any host but localhost it would rewrite every asset to https and leave a blank page.
 */
export function docsCsp (hashes: { script: string[], style: string[] }, https: boolean): string {
  return [
    "default-src 'self'",
    "base-uri 'self'",
    "font-src 'self' https: data:",
    "frame-ancestors 'self'",
    "img-src 'self' data: validator.swagger.io",
    "object-src 'none'",
    ['script-src', "'self'", ...hashes.script].join(' '),
    "script-src-attr 'none'",
    ['style-src', "'self'", 'https:', ...hashes.style].join(' '),
    ...(https ? ['upgrade-insecure-requests'] : [])
  ].join('; ') + ';'
}

export default fp(swaggerPlugin, { name: 'swagger', dependencies: ['config', 'schemas'] })
