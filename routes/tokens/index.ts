import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { AccessClaims } from '../../lib/access-token.js'
import { usernameOfSubject } from '../../lib/access-token.js'
import { Problem } from '../../lib/problem.js'
import type { Principal } from '../../plugins/auth.js'
import { toProblem } from '../../plugins/errors.js'
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify'
import { clientOrBearerSecurity, clientSecurity, problemResponses, ref } from '../../schemas/common.js'
import { IntrospectionSchema, RevocationResponseSchema, TokenRequestSchema } from '../../schemas/lifecycle.js'
import type { Introspection } from '../../schemas/lifecycle.js'

/**
 * Whose token a caller may revoke or introspect (RFC 7009 section 2.1): an API client its own
 * (client_id), or any with the admin scope; a Bearer caller tokens of its own subject.
 */
function mayActOn (principal: Principal | null, claims: AccessClaims): boolean {
  if (principal?.kind === 'api_key') return principal.client.scopes.includes('admin') || claims.client_id === principal.client.id
  return principal?.kind === 'token' && principal.claims.sub === claims.sub
}

/** RFC 6749 section 5.2 error codes for what went wrong, as OAuth libraries read them. */
function oauthError (status: number, code: string): string {
  if (status === 401) return 'invalid_client'
  if (status === 403) return 'unauthorized_client'
  if (status === 429 || status === 503) return 'temporarily_unavailable'
  if (status >= 500) return 'server_error'
  return code === 'unsupported_token_type' ? code : 'invalid_request'
}

/**
 * The two RFC endpoints answer errors as OAuth does (`{error, error_description}`, application/json)
 * to OAuth clients, known by their form-encoded body or HTTP Basic client authentication; JSON
 * clients with X-API-Key keep the problem+json every other route answers.
 */
function oauthErrorHandler (error: FastifyError, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  const oauthClient = /^application\/x-www-form-urlencoded/i.test(request.headers['content-type'] ?? '') || /^Basic /i.test(request.headers.authorization ?? '')
  // Thrown on, an error reaches the app's handler (problem+json), as on every other route.
  if (!oauthClient) throw error
  const problem = toProblem(error)
  const headers: Record<string, string> = { ...problem.headers, 'cache-control': 'no-store' }
  if (problem.statusCode === 401) headers['www-authenticate'] = 'Basic realm="tokenmint"'
  return reply.code(problem.statusCode).headers(headers).type('application/json; charset=utf-8')
    .send({ error: oauthError(problem.statusCode, problem.code), error_description: problem.message })
}

const tokenRoutes: FastifyPluginAsyncTypebox = async (fastify) => {
  // RFC 7009 and 7662 send application/x-www-form-urlencoded; here only (every other route takes JSON alone).
  fastify.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_request, body, done) => {
    const params = new URLSearchParams(String(body))
    // No prototype: a parameter named __proto__ or constructor is just an (unknown, refused) field.
    const fields: Record<string, string> = Object.create(null) as Record<string, string>
    for (const [name, value] of params) {
      // RFC 6749 section 3.2: a parameter sent twice makes the request invalid.
      if (Object.hasOwn(fields, name)) {
        done(new Problem(400, 'invalid_request', `The parameter "${name.slice(0, 32)}" is sent more than once.`))
        return
      }
      fields[name] = value
    }
    done(null, fields)
  })

  // API clients need the 'tokens' scope for every route in this file.
  fastify.addHook('onRoute', (route) => { route.config = { ...route.config, scope: 'tokens' } })
  /** The claims of a token that is valid right now, or undefined for any token that is not (a 401 of tokens.verify). */
  const activeClaims = async (token: string): Promise<AccessClaims | undefined> => {
    try {
      return await fastify.tokens.verify(token)
    } catch (error) {
      if (error instanceof Problem && error.statusCode === 401) return undefined
      throw error
    }
  }

  fastify.post('/v1/tokens/revoke', {
    errorHandler: oauthErrorHandler,
    schema: {
      consumes: ['application/x-www-form-urlencoded', 'application/json'],
      tags: ['tokens'],
      summary: 'Revoke an access token (RFC 7009)',
      description: 'Always 200 `{}`, whether or not the token was valid. With an API key the tokens that client minted are revoked ' +
        '(any token with the admin scope, which API_KEYS clients have); ' +
        'with a Bearer token only tokens of the same subject are (others are left alone, and the answer is the same). ' +
        'A revoked token is refused by every route on every instance sharing the store until it expires.',
      security: clientOrBearerSecurity,
      body: ref(TokenRequestSchema),
      response: { 200: ref(RevocationResponseSchema), ...problemResponses(400, 401, 413, 415, 429, 503) }
    }
  }, async (request, reply) => {
    const claims = await activeClaims(request.body.token)
    if (claims !== undefined && mayActOn(request.principal, claims)) await fastify.tokens.revoke(claims)
    reply.header('cache-control', 'no-store')
    return {}
  })

  fastify.post('/v1/tokens/introspect', {
    errorHandler: oauthErrorHandler,
    schema: {
      consumes: ['application/x-www-form-urlencoded', 'application/json'],
      tags: ['tokens'],
      summary: 'Introspect an access token (RFC 7662)',
      description: '`{"active": false}` for any token that is malformed, expired, revoked, of a deleted user, not ours, ' +
        'or minted by another API client (unless the caller has the admin scope); ' +
        'otherwise `active: true` with its claims.',
      security: clientSecurity,
      body: ref(TokenRequestSchema),
      response: { 200: ref(IntrospectionSchema), ...problemResponses(400, 401, 413, 415, 429, 503) }
    }
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
