import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { okResponse, problemResponses } from '../../schemas/common.js'
import { JwksSchema } from '../../schemas/lifecycle.js'

/** Verifiers cache the key set this long; the rotation runbook waits at least this before a new key signs. */
export const JWKS_MAX_AGE_SECONDS = 300

const jwksRoutes: FastifyPluginAsyncTypebox = async (fastify) => {
  const body = { keys: fastify.keyRing.jwks }

  fastify.get('/.well-known/jwks.json', {
    schema: {
      operationId: 'jwks',
      tags: ['keys'],
      summary: 'Public keys that verify access tokens (JWKS)',
      description: 'Public members (`kty crv x y kid alg use`) of every ES256/EdDSA verification key, the signing key first. ' +
        'Empty with HS256: a symmetric key is never published.',
      response: { 200: okResponse('The key set (cache it for up to 300 s)', JwksSchema, { 'Cache-Control': { type: 'string', description: 'public, max-age=300' } }), ...problemResponses(400, 429) }
    },
    // Public, cached and cheap: only the local flood guard counts it, so it stays up when Redis is down.
    config: { rateLimit: false }
  }, async (_request, reply) => {
    reply.header('cache-control', `public, max-age=${JWKS_MAX_AGE_SECONDS}`)
    return body
  })
}

export default jwksRoutes
