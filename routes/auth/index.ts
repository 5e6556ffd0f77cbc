import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { usernameOfSubject } from '../../lib/access-token.js'
import { Problem } from '../../lib/problem.js'
import { bearerSecurity, okResponse, problemResponses, RATE_LIMIT_HEADERS, ref } from '../../schemas/common.js'
import { CredentialsSchema, PasswordChangeSchema } from '../../schemas/lifecycle.js'
import { TokenResponseSchema } from '../../schemas/tokens.js'
import { tokenResponse } from '../../plugins/sessions.js'

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
    const issued = await fastify.accounts.login(username, password, request.ip, dpopJkt === undefined ? {} : { dpopJkt })
    reply.header('cache-control', 'no-store')
    return tokenResponse(issued)
  })

  fastify.post('/v1/auth/password', {
    schema: {
      operationId: 'changePassword',
      tags: ['auth'],
      summary: 'Change the logged-in user\'s password; every other session ends',
      description: 'With a login token. The current password is checked (a wrong one is 403 `invalid_credentials`, counted like a failed ' +
        'login). Then every token and refresh token issued to the user before stops working, on every instance, and the answer ' +
        'is a new token (and refresh token) for this caller, bound to the same key as the token presented.',
      security: bearerSecurity,
      body: ref(PasswordChangeSchema),
      response: { 200: okResponse('The caller\'s new session', TokenResponseSchema, RATE_LIMIT_HEADERS), ...problemResponses(400, 401, 403, 409, 413, 415, 429, 503) }
    }
  }, async (request, reply) => {
    const principal = request.principal
    const username = principal?.kind === 'token' ? usernameOfSubject(principal.claims.sub) : undefined
    if (principal?.kind !== 'token' || username === undefined || typeof principal.claims.uid !== 'string') {
      throw new Problem(403, 'not_a_user', 'Only a login token (POST /v1/auth/login) can change its user\'s password.')
    }
    const jkt = principal.claims.cnf?.jkt
    const issued = await fastify.accounts.changePassword(
      username, principal.claims.uid, request.body.current_password, request.body.new_password, jkt === undefined ? {} : { dpopJkt: jkt })
    reply.header('cache-control', 'no-store')
    return tokenResponse(issued)
  })
}

export default authRoutes
