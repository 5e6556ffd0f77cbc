import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { AccessClaims } from '../../lib/access-token.js'
import { usernameOfSubject } from '../../lib/access-token.js'
import { Problem } from '../../lib/problem.js'
import { parseFormBody } from '../../lib/form.js'
import { isRefreshToken } from '../../plugins/sessions.js'
import type { Principal } from '../../plugins/auth.js'
import { clientOrBearerSecurity, clientSecurity, oauthProblemResponses, okResponse, RATE_LIMIT_HEADERS, ref } from '../../schemas/common.js'
import { IntrospectionSchema, RevocationResponseSchema, TokenRequestSchema } from '../../schemas/lifecycle.js'
import type { Introspection } from '../../schemas/lifecycle.js'

/**
 * Whose token (or refresh session) a caller may revoke or introspect (RFC 7009 section 2.1): an API
 * client its own (client_id), or any with the admin scope; a Bearer caller those of its own subject.
 */
function mayActOn (principal: Principal | null, owner: { sub: string, client_id?: unknown }): boolean {
  if (principal?.kind === 'api_key') return principal.client.scopes.includes('admin') || owner.client_id === principal.client.id
  return principal?.kind === 'token' && principal.claims.sub === owner.sub
}

const NO_STORE = { type: 'string', enum: ['no-store'], description: 'Never cached (RFC 7009/7662)' }

const tokenRoutes: FastifyPluginAsyncTypebox = async (fastify) => {
  // RFC 7009 and 7662 send application/x-www-form-urlencoded; here only (every other route takes JSON alone).
  fastify.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, parseFormBody)

  // API clients need the 'tokens' scope for every route in this file; OAuth clients get OAuth error bodies (plugins/errors.ts).
  fastify.addHook('onRoute', (route) => { route.config = { ...route.config, scope: 'tokens', oauthErrors: true } })
  /** The claims of a token that is valid right now, or undefined for any token that is not (a 401 of tokens.verify). */
  const activeClaims = async (token: string): Promise<AccessClaims | undefined> => {
    try {
      return await fastify.tokens.verify(token)
    } catch (error) {
      if (error instanceof Problem && error.statusCode === 401) return undefined
      throw error
    }
  }

  /** RFC 7009 for refresh tokens: the session's client (or admin), or a Bearer caller of the same subject, ends the session. */
  const revokeSession = async (principal: Principal | null, token: string): Promise<void> => {
    const record = await fastify.sessions.find(token)
    if (record !== null && mayActOn(principal, record)) await fastify.sessions.end(record, 'revoked')
  }

  fastify.post('/v1/tokens/revoke', {
    schema: {
      operationId: 'revoke',
      consumes: ['application/x-www-form-urlencoded', 'application/json'],
      tags: ['tokens'],
      summary: 'Revoke an access token (RFC 7009)',
      description: 'Always 200 `{}`, whether or not the token was valid. With an API key the tokens that client minted are revoked ' +
        '(any token with the admin scope, which API_KEYS clients have); ' +
        'with a Bearer token only tokens of the same subject are (others are left alone, and the answer is the same). ' +
        'A revoked token is refused by every route on every instance sharing the store until it expires. ' +
        'A refresh token (`rt_...`, token_type_hint ignored) ends its whole session: its refresh tokens and every access token issued in it.',
      security: clientOrBearerSecurity,
      body: ref(TokenRequestSchema),
      response: { 200: okResponse('Done (or nothing to do): always `{}`', RevocationResponseSchema, { ...RATE_LIMIT_HEADERS, 'Cache-Control': NO_STORE }), ...oauthProblemResponses(400, 401, 403, 413, 415, 429, 503) }
    },
    // Read by the auth plugin's onRoute hook, which runs before this file's: client_id and client_secret in the form body.
    config: { clientSecretPost: true }
  }, async (request, reply) => {
    reply.header('cache-control', 'no-store')
    if (isRefreshToken(request.body.token)) {
      await revokeSession(request.principal, request.body.token)
      return {}
    }
    const claims = await activeClaims(request.body.token)
    if (claims !== undefined && mayActOn(request.principal, claims)) await fastify.tokens.revoke(claims)
    return {}
  })

  fastify.post('/v1/tokens/introspect', {
    schema: {
      operationId: 'introspect',
      consumes: ['application/x-www-form-urlencoded', 'application/json'],
      tags: ['tokens'],
      summary: 'Introspect an access token (RFC 7662)',
      description: '`{"active": false}` for any token that is malformed, expired, revoked, of a deleted user, not ours, ' +
        'or minted by another API client (unless the caller has the admin scope); ' +
        'otherwise `active: true` with its claims.',
      security: clientSecurity,
      body: ref(TokenRequestSchema),
      response: { 200: okResponse('Whether the token is active, and its claims when it is', IntrospectionSchema, { ...RATE_LIMIT_HEADERS, 'Cache-Control': NO_STORE }), ...oauthProblemResponses(400, 401, 403, 413, 415, 429, 503) }
    },
    config: { clientSecretPost: true }
  }, async (request, reply) => {
    reply.header('cache-control', 'no-store')
    const claims = await activeClaims(request.body.token)
    if (claims === undefined || !mayActOn(request.principal, claims)) return { active: false }
    const username = usernameOfSubject(claims.sub)
    const answer: Introspection = {
      active: true,
      sub: claims.sub,
      iss: claims.iss,
      aud: claims.aud,
      iat: claims.iat,
      exp: claims.exp,
      jti: claims.jti,
      token_type: claims.cnf === undefined ? 'Bearer' : 'DPoP',
      ...(claims.instance_id === undefined ? {} : { instance_id: claims.instance_id }),
      ...(claims.cnf === undefined ? {} : { cnf: { jkt: claims.cnf.jkt } }),
      ...(claims.amr === undefined ? {} : { amr: claims.amr }),
      ...(username === undefined ? {} : { username }),
      ...(typeof claims.client_id === 'string' ? { client_id: claims.client_id } : {})
    }
    return answer
  })
}

export default tokenRoutes
