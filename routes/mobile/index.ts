import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { apiKeySecurity, bearerSecurity, okResponse, problemResponses, RATE_LIMIT_HEADERS, ref } from '../../schemas/common.js'
import { GenJwtRequestSchema, MeResponseSchema, TokenResponseSchema } from '../../schemas/tokens.js'
import { tokenResponse } from '../../plugins/sessions.js'

const mobileRoutes: FastifyPluginAsyncTypebox = async (fastify) => {
  // API clients need the 'mint' scope for every route in this file.
  fastify.addHook('onRoute', (route) => { route.config = { ...route.config, scope: 'mint' } })
  fastify.post('/gen-jwt', {
    schema: {
      operationId: 'genJwt',
      'x-body-optional': true,
      tags: ['mobile'],
      summary: 'Mint a short-lived access token for a mobile app',
      description: 'With `instance_id` the token is bound to that app instance (send it back as `X-Instance-Id`); ' +
        'with `{}` it is a generic token for this API client. With `dpop_jkt` it is also bound to a device key ' +
        '(`cnf.jkt`) and must be presented as `Authorization: DPoP <token>` with a `DPoP` proof (RFC 9449).',
      security: apiKeySecurity,
      body: ref(GenJwtRequestSchema),
      response: { 200: okResponse('The access token', TokenResponseSchema, RATE_LIMIT_HEADERS), ...problemResponses(400, 401, 403, 413, 415, 429, 503) }
    },
    // A bodiless POST (curl -X POST) means "a generic token", the same as {}.
    preValidation: async (request) => {
      if (request.body === undefined || request.body === null) request.body = {}
    }
  }, async (request) => {
    const { instance_id: instanceId, dpop_jkt: jkt } = request.body
    const principal = request.principal
    const clientId = principal?.kind === 'api_key' ? principal.client.id : 'unknown'
    // RFC 9068 client_id: the API client that minted it, which alone may revoke or introspect it (admin aside).
    return tokenResponse(await fastify.sessions.start({
      clientId,
      ...(instanceId === undefined ? { sub: `client:${clientId}` } : { sub: `instance:${instanceId}`, instance_id: instanceId }),
      ...(jkt === undefined ? {} : { cnf: { jkt } })
    }))
  })

  fastify.get('/v1/me', {
    schema: {
      operationId: 'me',
      tags: ['mobile'],
      summary: 'The verified claims of the presented access token',
      description: 'The first call a mobile SDK makes after initialising with `Bearer <token>`.',
      security: bearerSecurity,
      response: { 200: okResponse('The token\'s claims', MeResponseSchema, RATE_LIMIT_HEADERS), ...problemResponses(400, 401, 403, 429, 503) }
    }
  }, async (request) => {
    const principal = request.principal
    /* c8 ignore next */
    if (principal?.kind !== 'token') throw new Error('bearer authentication did not run')
    const { sub, instance_id: instanceId, iat, exp, jti, amr } = principal.claims
    return {
      sub,
      iat,
      exp,
      jti,
      ...(instanceId === undefined ? {} : { instance_id: instanceId }),
      ...(amr === undefined ? {} : { amr })
    }
  })
}

export default mobileRoutes
