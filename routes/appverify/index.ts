import { Type } from '@sinclair/typebox'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { FastifyReply, FastifyRequest } from 'fastify'
import { invalidPhoneNumber, invalidXid, isValidXid, prefersJson, XID_PATTERN } from '../../lib/appverify.js'
import { parsePhone } from '../../lib/phone.js'
import { notFound, Problem } from '../../lib/problem.js'
import type { Principal } from '../../plugins/auth.js'
import { AppVerifyTokenResponseSchema } from '../../schemas/appverify.js'
import { keyOrBearerSecurity, problemResponses, RATE_LIMIT_HEADERS, ref } from '../../schemas/common.js'

const PhoneParam = Type.String({
  description: 'E.164 (`+15551234567`, percent-encode the plus as `%2B` if your client needs to) or the 11-digit NANP form `15551234567`',
  examples: ['15551234567']
})
const XidParam = Type.String({ pattern: XID_PATTERN, description: 'Your transaction id: 1..128 characters of `[A-Za-z0-9._~:-]`', examples: ['order-42'] })

/** Who a token was issued to, as recorded with the transaction. */
function issuedTo (principal: Principal | null): string {
  if (principal === null) return 'public'
  return principal.kind === 'api_key' ? `client:${principal.client.id}` : principal.claims.sub
}

// HEAD too: answering it would issue and record a token the client never sees.
const METHODS_NOT_ALLOWED = ['HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'] as const

const appVerifyRoutes: FastifyPluginAsyncTypebox = async (fastify) => {
  // API clients need the 'appverify' scope for every route in this file.
  fastify.addHook('onRoute', (route) => { route.config = { ...route.config, scope: 'appverify' } })
  const settings = fastify.config.appVerify
  // One budget per caller for both paths: alternating between them must not double a caller's rate.
  const limitPerClient = fastify.budget('appverify', settings.rateLimit)
  const security = settings.public ? [] : keyOrBearerSecurity
  const problems = settings.public ? problemResponses(400, 403, 405, 409, 429, 503) : problemResponses(400, 401, 403, 405, 409, 429, 503)

  const response = {
    200: {
      description: 'The bare token as text/plain (what Telesign\'s SDKs read), or JSON with `Accept: application/json`',
      headers: { Allow: { type: 'string', enum: ['GET'], description: 'Always GET' }, 'Cache-Control': { type: 'string', enum: ['no-store'], description: 'A token is never cached' }, ...RATE_LIMIT_HEADERS },
      content: {
        'text/plain': { schema: Type.String({ description: 'The compact JWT', example: 'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJpc3MiOi...' }) },
        'application/json': { schema: ref(AppVerifyTokenResponseSchema) }
      }
    },
    ...problems
  }
  const description = 'Signs a Telesign App Verify token (HS256 with the base64-decoded APPVERIFY_API_KEY; claims `iss` ' +
    '(APPVERIFY_CUSTOMER_ID), `iat` (now − APPVERIFY_BACKDATE), `exp` (iat + APPVERIFY_TOKEN_TTL), `phn`, `xid`) ' +
    'and records the transaction for GET /v1/transactions. Rate limited per client (APPVERIFY_RATE_LIMIT, default 1 per second).'

  const issue = async (request: FastifyRequest, reply: FastifyReply, phoneNumber: string, xid: string | undefined): Promise<FastifyReply> => {
    const phone = parsePhone(phoneNumber)
    if (phone === undefined) throw invalidPhoneNumber()
    const { token, claims, transaction } = await fastify.appVerify.issueAppVerifyToken({
      phone,
      issuedTo: issuedTo(request.principal),
      ...(xid === undefined ? {} : { xid })
    })
    reply.header('allow', 'GET').header('cache-control', 'no-store').header('vary', 'Accept')
    if (prefersJson(request.headers.accept)) {
      return reply.type('application/json; charset=utf-8').send({
        token,
        xid: claims.xid,
        phone_number: transaction.phone_number,
        expires_at: transaction.expires_at.toISOString()
      })
    }
    return reply.type('text/plain; charset=utf-8').send(token)
  }

  fastify.get('/v1/token/:phone_number', {
    onRequest: [limitPerClient],
    config: { rateLimit: false },
    exposeHeadRoute: false,
    schema: {
      operationId: 'appVerifyToken',
      tags: ['appverify'],
      summary: 'Issue an App Verify token for a phone number (fresh xid)',
      description,
      security,
      params: Type.Object({ phone_number: PhoneParam }),
      response
    }
  }, async (request, reply) => await issue(request, reply, request.params.phone_number, undefined))

  fastify.get('/v1/token/:phone_number/:xid', {
    onRequest: [limitPerClient],
    config: { rateLimit: false, validationProblems: { xid: invalidXid } },
    exposeHeadRoute: false,
    schema: {
      operationId: 'appVerifyTokenForXid',
      tags: ['appverify'],
      summary: 'Issue an App Verify token for a phone number and your transaction id',
      description: `${description} An xid that was already issued is 409 xid_exists.`,
      security,
      params: Type.Object({ phone_number: PhoneParam, xid: XidParam }),
      response
    }
  }, async (request, reply) => await issue(request, reply, request.params.phone_number, request.params.xid))

  // Segments longer than the router's maxParamLength, or too many of them, land here: the
  // client still learns which part is wrong instead of a bare 404 or 414.
  fastify.get('/v1/token/*', {
    onRequest: [limitPerClient],
    config: { rateLimit: false },
    exposeHeadRoute: false,
    schema: { hide: true, security }
  }, async (request) => {
    const segments = (request.params as { '*': string })['*'].split('/')
    if (segments.length <= 2) {
      if (parsePhone(segments[0]) === undefined) throw invalidPhoneNumber()
      if (segments[1] !== undefined && !isValidXid(segments[1])) throw invalidXid()
    }
    throw notFound('not_found', 'Use GET /v1/token/{phone_number} or GET /v1/token/{phone_number}/{xid}.')
  })

  // Fastify would answer 404 for other methods; these paths exist, so 405 with Allow says why.
  for (const url of ['/v1/token/:phone_number', '/v1/token/:phone_number/:xid']) {
    fastify.route({
      method: [...METHODS_NOT_ALLOWED],
      url,
      schema: { hide: true },
      handler: async () => {
        throw new Problem(405, 'method_not_allowed', 'Only GET is allowed here.', { headers: { allow: 'GET' } })
      }
    })
  }
}

export default appVerifyRoutes
