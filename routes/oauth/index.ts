import { Type } from '@sinclair/typebox'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { DPOP_ALGORITHMS } from '../../lib/dpop.js'
import { parseFormBody } from '../../lib/form.js'
import { badRequest, Problem } from '../../lib/problem.js'
import { oauthProblemResponses, okResponse, problemResponses, ref } from '../../schemas/common.js'
import { AuthorizationServerMetadataSchema, OAuthTokenResponseSchema, TokenGrantRequestSchema } from '../../schemas/lifecycle.js'
import type { SessionTokens } from '../../plugins/sessions.js'

const NO_STORE = { type: 'string', enum: ['no-store'], description: 'Never cached (RFC 6749 section 5.1)' }

/** RFC 8414 metadata and the RFC 6749 token endpoint: where OAuth libraries discover and refresh. */
const oauthRoutes: FastifyPluginAsyncTypebox = async (fastify) => {
  const configured = fastify.config.publicUrl
  fastify.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, parseFormBody)

  fastify.get('/.well-known/oauth-authorization-server', {
    schema: {
      operationId: 'authorizationServerMetadata',
      tags: ['keys'],
      summary: 'OAuth authorization server metadata (RFC 8414)',
      description: 'Set PUBLIC_URL in production: without it the URLs are built from the request, which a proxy may change.',
      response: { 200: okResponse('Where the OAuth endpoints and keys are, and how clients authenticate there', AuthorizationServerMetadataSchema), ...problemResponses(400, 429) }
    },
    config: { rateLimit: false }
  }, async (request, reply) => {
    const base = configured ?? `${request.protocol}://${request.host}`
    reply.header('cache-control', 'public, max-age=300')
    const methods = ['client_secret_basic', 'client_secret_post']
    return {
      issuer: base,
      jwks_uri: `${base}/.well-known/jwks.json`,
      token_endpoint: `${base}/oauth/token`,
      // "none": a mobile app refreshing its own session sends only its client_id.
      token_endpoint_auth_methods_supported: [...methods, 'none'],
      grant_types_supported: ['refresh_token', 'client_credentials'],
      revocation_endpoint: `${base}/v1/tokens/revoke`,
      revocation_endpoint_auth_methods_supported: methods,
      introspection_endpoint: `${base}/v1/tokens/introspect`,
      introspection_endpoint_auth_methods_supported: methods,
      dpop_signing_alg_values_supported: [...DPOP_ALGORITHMS],
      service_documentation: `${base}/docs`
    }
  })

  const answer = (issued: SessionTokens): Record<string, unknown> => ({
    access_token: issued.access.token,
    token_type: issued.access.claims.cnf === undefined ? 'Bearer' : 'DPoP',
    expires_in: issued.access.claims.exp - issued.access.claims.iat,
    ...(issued.refreshToken === undefined ? {} : { refresh_token: issued.refreshToken })
  })

  fastify.post('/oauth/token', {
    schema: {
      operationId: 'token',
      consumes: ['application/x-www-form-urlencoded', 'application/json'],
      tags: ['tokens'],
      summary: 'Token endpoint (RFC 6749): refresh a session, or client credentials',
      description: '`grant_type=refresh_token`: the refresh token is spent and a new pair issued, bound like the first ' +
        '(a device-bound session needs X-Instance-Id, a key-bound one a DPoP proof from its key); a refresh token presented ' +
        'a second time ends its whole session. No client authentication is needed (a mobile app is a public client), but ' +
        'an authenticated client or a client_id must be the session\'s. `grant_type=client_credentials`: an API client ' +
        '(X-API-Key, HTTP Basic or client_secret_post) with the mint scope gets a generic access token, as POST /gen-jwt `{}`. ' +
        'Errors are OAuth errors (`invalid_grant`, `invalid_client`, `unsupported_grant_type`, ...).',
      security: [{}, { apiKey: [] }, { clientSecretBasic: [] }],
      headers: Type.Object({
        'x-instance-id': Type.Optional(Type.String({ maxLength: 256, description: 'A device-bound session: the instance id it was started for' })),
        dpop: Type.Optional(Type.String({ maxLength: 4096, description: 'A key-bound session: a DPoP proof (htm POST, htu this URL, no ath) signed with the session\'s key' }))
      }),
      body: ref(TokenGrantRequestSchema),
      response: {
        200: okResponse('The new access token (and refresh token)', OAuthTokenResponseSchema, { 'Cache-Control': NO_STORE }),
        ...oauthProblemResponses(400, 401, 403, 413, 415, 429, 503)
      }
    },
    config: { oauthErrors: 'always', clientSecretPost: true }
  }, async (request, reply) => {
    reply.header('cache-control', 'no-store').header('pragma', 'no-cache')
    const body = request.body
    const client = request.principal?.kind === 'api_key' ? request.principal.client : undefined
    if (body.grant_type === 'client_credentials') {
      if (client === undefined) throw new Problem(401, 'invalid_client', 'client_credentials needs client authentication (HTTP Basic, client_secret_post or X-API-Key).')
      if (!client.scopes.includes('mint')) throw new Problem(403, 'unauthorized_client', 'This API client may not mint tokens (it lacks the mint scope).')
      return answer(await fastify.sessions.start({ sub: `client:${client.id}`, clientId: client.id }))
    }
    if (body.grant_type !== 'refresh_token') throw badRequest('unsupported_grant_type', 'grant_type must be refresh_token or client_credentials.')
    if (body.refresh_token === undefined) throw badRequest('invalid_request', 'refresh_token is required with grant_type=refresh_token.')
    if (client !== undefined && body.client_id !== undefined && body.client_id !== client.id) {
      throw new Problem(401, 'invalid_client', 'client_id is not the authenticated client.')
    }
    const instanceId = request.headers['x-instance-id']
    const dpopJkt = await fastify.dpopProofKey(request)
    const clientId = client?.id ?? body.client_id
    return answer(await fastify.sessions.refresh(body.refresh_token, {
      ...(clientId === undefined ? {} : { clientId }),
      ...(typeof instanceId === 'string' ? { instanceId } : {}),
      ...(dpopJkt === undefined ? {} : { dpopJkt })
    }))
  })
}

export default oauthRoutes
