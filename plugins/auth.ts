import fp from 'fastify-plugin'
import type { FastifyInstance, FastifyRequest, onRequestAsyncHookHandler, preValidationAsyncHookHandler, RouteOptions } from 'fastify'
import { parseAuthorization } from '../lib/access-token.js'
import type { AccessClaims } from '../lib/access-token.js'
import type { ApiClient, Scope } from '../lib/clients.js'
import { DpopNonceError, DpopProofError, invalidDpopProof, useDpopNonce, verifyDpopProof } from '../lib/dpop.js'
import { DpopNonces } from '../lib/dpop-nonce.js'
import { invalidToken, missingToken, Problem } from '../lib/problem.js'

/** The OpenAPI security schemes; a route's `schema.security` is what the auth hook enforces. */
export type SecurityScheme = 'apiKey' | 'bearerAuth' | 'dpopAuth' | 'clientSecretBasic'

export type Principal =
  | { kind: 'api_key', client: ApiClient }
  | { kind: 'token', claims: AccessClaims, token: string }

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The route group an API client needs in its scopes to call this route. */
    scope?: Exclude<Scope, 'admin'>
    /**
     * RFC 6749 section 2.3.1 client_secret_post: the client id and secret may also come in the
     * form-encoded body. OpenAPI has no security scheme for body credentials, so the route says it here.
     */
    clientSecretPost?: boolean
  }
  interface FastifyRequest {
    principal: Principal | null
  }
  interface FastifyInstance {
    /** Authenticates a request against the given schemes (any one suffices). */
    authenticate (request: FastifyRequest, schemes: readonly SecurityScheme[]): Promise<Principal>
    /**
     * The key of the request's DPoP proof, checked as at a resource (method, URL, iat, one use,
     * nonce) but with no access token (RFC 9449 section 5: the token endpoint); undefined without one.
     */
    dpopProofKey (request: FastifyRequest): Promise<string | undefined>
  }
}

function invalidApiKey (detail: string): Problem {
  return new Problem(401, 'invalid_api_key', detail)
}

async function authPlugin (fastify: FastifyInstance): Promise<void> {
  const checkScope = (request: FastifyRequest, client: ApiClient): void => {
    const scope = request.routeOptions.config.scope
    if (scope !== undefined && !client.scopes.includes(scope)) {
      throw new Problem(403, 'insufficient_scope', `This API client may not call ${scope} routes (its scopes: ${client.scopes.join(', ')}).`)
    }
  }

  const verifyApiKey = (request: FastifyRequest): Principal => {
    const presented = request.headers['x-api-key']
    if (typeof presented !== 'string' || presented === '') throw invalidApiKey('The X-API-Key header is missing.')
    // A disabled client's key is as unknown as a wrong one: the answer does not tell them apart.
    const client = fastify.clients.match(presented)
    if (client === undefined) throw invalidApiKey('The API key is not valid.')
    checkScope(request, client)
    return { kind: 'api_key', client }
  }

  const clientRefused = (): Problem => new Problem(401, 'invalid_client', 'Client authentication failed.', { headers: { 'www-authenticate': 'Basic realm="tokenmint"' } })

  const authenticateClient = (request: FastifyRequest, id: string, secret: string): Principal => {
    const client = fastify.clients.authenticate(id, secret)
    if (client === undefined) throw clientRefused()
    checkScope(request, client)
    return { kind: 'api_key', client }
  }

  /** RFC 6749 section 2.3.1 client_secret_basic: the client id and secret, each form-urlencoded, in HTTP Basic. */
  const verifyClientBasic = (request: FastifyRequest): Principal => {
    const encoded = /^Basic ([A-Za-z0-9+/]+={0,2})$/i.exec(request.headers.authorization ?? '')?.[1]
    if (encoded === undefined) throw clientRefused()
    const decoded = Buffer.from(encoded, 'base64').toString('utf8')
    const colon = decoded.indexOf(':')
    if (colon === -1) throw clientRefused()
    let id: string
    let secret: string
    try {
      id = decodeURIComponent(decoded.slice(0, colon).replaceAll('+', ' '))
      secret = decodeURIComponent(decoded.slice(colon + 1).replaceAll('+', ' '))
    } catch {
      throw clientRefused()
    }
    return authenticateClient(request, id, secret)
  }

  /**
   * client_secret_post: client_id and client_secret in the form body, read once the body is parsed.
   * Both leave the body here, so no handler or log ever sees the secret. A request that also
   * authenticated another way is refused (RFC 6749 section 2.3: one method per request).
   */
  const verifyClientPost = (request: FastifyRequest, optional: boolean): void => {
    const body = request.body as Record<string, unknown> | undefined
    if (body === null || typeof body !== 'object' || !Object.hasOwn(body, 'client_secret')) {
      if (request.principal === null && !optional) throw clientRefused()
      return
    }
    const { client_id: id, client_secret: secret } = body
    delete body.client_id
    delete body.client_secret
    if (request.principal !== null) throw new Problem(400, 'invalid_request', 'Use one client authentication method per request.')
    if (typeof id !== 'string' || typeof secret !== 'string') throw clientRefused()
    request.principal = authenticateClient(request, id, secret)
  }

  // RFC 9449 section 8: with DPOP_NONCE, proofs carry a nonce issued here (keyed from OTP_PEPPER, which every instance shares).
  const nonces = fastify.config.jwt.dpopNonce ? new DpopNonces(fastify.config.otp.pepper) : undefined
  const nonceIsFresh = nonces === undefined ? undefined : (nonce: unknown): boolean => nonces.isFresh(nonce)

  const checkDpopProof = async (request: FastifyRequest, token: string | undefined, jkt: string | undefined): Promise<string> => {
    try {
      const { replayKey, replayUntil, jkt: proofKey } = await verifyDpopProof({
        proof: request.headers.dpop,
        method: request.method,
        // protocol and host honour X-Forwarded-* only from TRUST_PROXY addresses.
        url: `${request.protocol}://${request.host}${request.url}`,
        nowSeconds: Math.floor(Date.now() / 1000),
        ...(token === undefined ? {} : { accessToken: token }),
        ...(jkt === undefined ? {} : { jkt }),
        ...(nonceIsFresh === undefined ? {} : { nonceIsFresh })
      })
      if (!await fastify.store.dpopProofs.use(replayKey, replayUntil)) throw new DpopProofError('This DPoP proof was already used.')
      return proofKey
    } catch (error) {
      if (error instanceof DpopNonceError && nonces !== undefined) throw useDpopNonce(error.message, nonces.issue())
      if (error instanceof DpopProofError) throw invalidDpopProof(error.message)
      throw error
    }
  }

  const verifyBearer = async (request: FastifyRequest): Promise<Principal> => {
    const header = request.headers.authorization
    if (header === undefined || header === '') throw missingToken('An Authorization: Bearer <token> header is required.')
    const presented = parseAuthorization(header)
    if (presented === undefined) throw invalidToken('token_invalid', 'The Authorization header must use the Bearer scheme.')
    const { dpop: dpopScheme, token } = presented
    const claims = await fastify.tokens.verify(token)
    if (claims.cnf !== undefined) {
      if (!dpopScheme) throw invalidDpopProof('This token is bound to a key: send it as Authorization: DPoP <token> with a DPoP proof.')
      await checkDpopProof(request, token, claims.cnf.jkt)
    } else if (dpopScheme) {
      throw invalidToken('token_invalid', 'This token is not bound to a key: send it as Authorization: Bearer <token>.')
    }
    if (claims.instance_id !== undefined && request.headers['x-instance-id'] !== claims.instance_id) {
      throw invalidToken('device_mismatch', 'This token is bound to a device: send its instance id in X-Instance-Id.')
    }
    return { kind: 'token', claims, token }
  }

  fastify.decorate('dpopProofKey', async function dpopProofKey (request: FastifyRequest) {
    return request.headers.dpop === undefined ? undefined : await checkDpopProof(request, undefined, undefined)
  })

  fastify.decorateRequest('principal', null)
  fastify.decorate('authenticate', async function authenticate (request: FastifyRequest, schemes: readonly SecurityScheme[]) {
    const acceptsKey = schemes.includes('apiKey')
    const acceptsBearer = schemes.includes('bearerAuth') || schemes.includes('dpopAuth')
    let principal: Principal
    if (schemes.includes('clientSecretBasic') && request.headers['x-api-key'] === undefined && /^Basic /i.test(request.headers.authorization ?? '')) {
      principal = verifyClientBasic(request)
    } else if (acceptsKey && (request.headers['x-api-key'] !== undefined || !acceptsBearer)) {
      principal = verifyApiKey(request)
    } else if (acceptsBearer && request.headers.authorization !== undefined) {
      principal = await verifyBearer(request)
    } else {
      throw missingToken(acceptsKey
        ? 'Authenticate with an X-API-Key header or an Authorization: Bearer <token> header.'
        : 'An Authorization: Bearer <token> header is required.')
    }
    request.principal = principal
    return principal
  })

  // The route's OpenAPI security requirement is the single source of truth for its auth.
  fastify.addHook('onRoute', (route: RouteOptions) => {
    const security = (route.schema as { security?: Array<Record<string, unknown>> } | undefined)?.security
    if (security === undefined || security.length === 0) return
    const schemes = security.flatMap((requirement) => Object.keys(requirement)) as SecurityScheme[]
    // An empty requirement ({}) makes authentication optional: credentials are checked when sent (public OAuth clients send none).
    const optional = security.some((requirement) => Object.keys(requirement).length === 0)
    const bodyCredentials = route.config?.clientSecretPost === true
    /** Guessing is charged to the address: past its budget the answer is 429, not another verdict. */
    const charged = async (request: FastifyRequest, error: unknown): Promise<never> => {
      // A nonce round trip is the protocol working, not a guess: it costs the address nothing.
      if (error instanceof Problem && error.code === 'use_dpop_nonce') throw error
      throw (await fastify.chargeFailedAuth(request)) ?? error
    }
    const hook: onRequestAsyncHookHandler = async function authHook (request, reply) {
      // No credential header on a form body: the credentials are in the body (checked in preValidation).
      const noHeaders = request.headers['x-api-key'] === undefined && request.headers.authorization === undefined
      if (noHeaders && (optional || (bodyCredentials && /^application\/x-www-form-urlencoded/i.test(request.headers['content-type'] ?? '')))) return
      try {
        const principal = await fastify.authenticate(request, schemes)
        // A fresh nonce with every DPoP-authenticated answer, so a client never has to be refused to learn the next one.
        if (nonces !== undefined && principal.kind === 'token' && principal.claims.cnf !== undefined) reply.header('dpop-nonce', nonces.issue())
      } catch (error) {
        await charged(request, error)
      }
    }
    // First: the rate limits that follow count the request by who it turned out to be.
    route.onRequest = [hook, ...hooksOf(route.onRequest)]
    if (bodyCredentials) {
      const postHook: preValidationAsyncHookHandler = async function clientSecretPostHook (request) {
        try {
          verifyClientPost(request, optional)
        } catch (error) {
          await charged(request, error)
        }
      }
      route.preValidation = [postHook, ...hooksOf(route.preValidation)]
    }
  })
}

/** A route option's hooks as a list (Fastify takes one hook or an array). */
function hooksOf<T> (hooks: T | T[] | undefined): T[] {
  return hooks === undefined ? [] : Array.isArray(hooks) ? hooks : [hooks]
}

export default fp(authPlugin, { name: 'auth', dependencies: ['config', 'jwt', 'rate-limit', 'clients'] })
