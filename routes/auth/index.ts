import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { okResponse, problemResponses, RATE_LIMIT_HEADERS, ref } from '../../schemas/common.js'
import { CredentialsSchema } from '../../schemas/lifecycle.js'
import { TokenResponseSchema } from '../../schemas/tokens.js'

const authRoutes: FastifyPluginAsyncTypebox = async (fastify) => {
  fastify.post('/v1/auth/login', {
    schema: {
      operationId: 'login',
      tags: ['auth'],
      summary: 'Log in with username and password; returns an access token',
      description: 'Unknown user and wrong password get the same 401 `invalid_credentials` in similar time. ' +
        'After 5 failures per username or 20 per client within 15 minutes: 429 `too_many_attempts` with Retry-After. ' +
        'With `dpop_jkt` the token is bound to that key (RFC 9449): token_type DPoP, sent as Authorization: DPoP with a proof.',
      body: ref(CredentialsSchema),
      response: { 200: okResponse('The access token', TokenResponseSchema, RATE_LIMIT_HEADERS), ...problemResponses(400, 401, 403, 413, 415, 429, 503) }
    }
  }, async (request, reply) => {
    const { username, password, dpop_jkt: dpopJkt } = request.body
    const { token, claims } = await fastify.accounts.login(username, password, request.ip, dpopJkt === undefined ? {} : { dpopJkt })
    reply.header('cache-control', 'no-store')
    return {
      token,
      token_type: dpopJkt === undefined ? 'Bearer' as const : 'DPoP' as const,
      expires_in: claims.exp - claims.iat,
      expires_at: new Date(claims.exp * 1000).toISOString()
    }
  })
}

export default authRoutes
