import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { okResponse, problemResponses } from '../../schemas/common.js'
import { AuthorizationServerMetadataSchema } from '../../schemas/lifecycle.js'

/** RFC 8414 authorization server metadata: where OAuth libraries discover revocation, introspection and the keys. */
const oauthRoutes: FastifyPluginAsyncTypebox = async (fastify) => {
  const configured = fastify.config.publicUrl
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
      revocation_endpoint: `${base}/v1/tokens/revoke`,
      revocation_endpoint_auth_methods_supported: methods,
      introspection_endpoint: `${base}/v1/tokens/introspect`,
      introspection_endpoint_auth_methods_supported: methods,
      token_endpoint_auth_methods_supported: methods,
      dpop_signing_alg_values_supported: ['ES256', 'EdDSA'],
      service_documentation: `${base}/docs`
    }
  })
}

export default oauthRoutes
