import { randomUUID } from 'node:crypto'
import fp from 'fastify-plugin'
import fastifyJwt from '@fastify/jwt'
import { createVerifier, TokenError } from 'fast-jwt'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { claimsDefect, memoizedHeaderDefect, parseAuthorization, usernameOfSubject } from '../lib/access-token.js'
import type { AccessClaims } from '../lib/access-token.js'
import { invalidToken, missingToken } from '../lib/problem.js'
import type { KeyMaterial } from '../lib/keys.js'

export interface IssueInput {
  sub: string
  instance_id?: string
  cnf?: { jkt: string }
  amr?: string[]
  /** Further claims (for example phn and auth_id of a verified-phone token). */
  extra?: Record<string, string>
}

export interface IssuedToken {
  token: string
  claims: AccessClaims
}

export interface TokenService {
  /** Signs an access token and records it in the store (so it can be revoked and introspected). */
  issue (input: IssueInput): Promise<IssuedToken>
  /**
   * Verifies signature, algorithm, kid, typ and claims, then that the token is not revoked and
   * its user (for login tokens) still exists; throws the contract's 401 problems.
   */
  verify (token: string): Promise<AccessClaims>
  /** Revokes a verified token everywhere the store is shared, until it would have expired. */
  revoke (claims: AccessClaims): Promise<void>
}

declare module 'fastify' {
  interface FastifyInstance {
    tokens: TokenService
  }
}

/** The token of an `Authorization: Bearer <token>` or `DPoP <token>` header, for @fastify/jwt; the contract's 401s otherwise. */
function presentedToken (request: FastifyRequest): string {
  const header = request.headers.authorization
  if (header === undefined || header === '') {
    throw missingToken('An Authorization: Bearer <token> header is required.')
  }
  const presented = parseAuthorization(header)
  if (presented === undefined) throw invalidToken('token_invalid', 'The Authorization header must use the Bearer scheme.')
  return presented.token
}

export const LEEWAY_SECONDS = 5

/** The revocations key that ends a refresh session (its family) and every access token of it. */
export function sessionRevocationKey (familyId: string): string {
  return `family:${familyId}`
}
/** Verified tokens (fast-jwt) and shape verdicts (headerDefect) remembered per process. */
const VERIFY_CACHE_SIZE = 2048

async function jwtPlugin (fastify: FastifyInstance): Promise<void> {
  const { config, keyRing, store } = fastify
  const { issuer, audience, expireSeconds } = config.jwt

  const keyForKid = (kid: unknown): KeyMaterial => {
    const key = typeof kid === 'string' ? keyRing.byKid.get(kid) : undefined
    if (key === undefined || key.alg !== keyRing.algorithm) throw invalidToken('token_invalid', 'The access token is not valid.')
    return key.publicKey
  }

  await fastify.register(fastifyJwt, {
    // Verification keys by kid, like the service's own verifier, so rotated keys verify alike.
    // (@fastify/jwt calls it as (request, decoded) for request.jwtVerify; its types list only (decoded).)
    secret: { private: keyRing.signing.privateKey, public: async (...args: unknown[]) => keyForKid((args.find((arg) => (arg as { header?: unknown })?.header !== undefined) as { header: { kid?: unknown } } | undefined)?.header.kid) },
    // Global sign options only: @fastify/jwt then signs with one cached signer (per-call options build a new one).
    sign: { algorithm: keyRing.algorithm, kid: keyRing.signing.kid, header: { alg: keyRing.algorithm, typ: 'at+jwt' }, iss: issuer, aud: audience },
    verify: { algorithms: [keyRing.algorithm], allowedIss: issuer, allowedAud: audience, extractToken: presentedToken },
    // The key callback needs the header's kid.
    decode: { complete: true },
    // request.jwtVerify() ends in the service's one verification path (fastify.authenticate: typ,
    // kid, claims, revocation, user, device and DPoP binding), never a signature check alone.
    trusted: async (request) => {
      if (request.principal?.kind !== 'token') await fastify.authenticate(request, ['bearerAuth'])
      return true
    }
  })
  // The request-less verifier cannot see revocations (they are asynchronous): it is refused so
  // that nothing can verify a token with less than tokens.verify.
  fastify.jwt.verify = (() => {
    throw new Error('fastify.jwt.verify is disabled: verify access tokens with fastify.tokens.verify or request.jwtVerify()')
  }) as typeof fastify.jwt.verify

  // One verifier for the process: @fastify/jwt would build a new one per call for non-string keys.
  const verifySignature = createVerifier({
    key: async ({ header }: { header: { kid?: unknown } }) => {
      const key = typeof header.kid === 'string' ? keyRing.byKid.get(header.kid) : undefined
      if (key === undefined || key.alg !== keyRing.algorithm) throw new Error('unknown kid')
      return key.publicKey
    },
    algorithms: [keyRing.algorithm],
    allowedIss: issuer,
    allowedAud: audience,
    checkTyp: 'at+jwt',
    requiredClaims: ['iss', 'aud', 'sub', 'iat', 'exp', 'jti'],
    clockTolerance: LEEWAY_SECONDS * 1000,
    maxAge: expireSeconds * 1000,
    cache: VERIFY_CACHE_SIZE
  })
  const headerDefect = memoizedHeaderDefect(VERIFY_CACHE_SIZE)

  const tokens: TokenService = {
    async issue (input) {
      const iat = Math.floor(Date.now() / 1000)
      // The registered claims win over extra ones. (Object.assign rather than `{ ...input.extra, iss }`:
      // on Node 20 every property written after a spread costs about 1.5 µs, docs/benchmark.md.)
      const claims: AccessClaims = Object.assign({}, input.extra, {
        iss: issuer,
        aud: audience,
        sub: input.sub,
        iat,
        exp: iat + expireSeconds,
        jti: randomUUID(),
        ...(input.instance_id === undefined ? {} : { instance_id: input.instance_id }),
        ...(input.cnf === undefined ? {} : { cnf: input.cnf }),
        ...(input.amr === undefined ? {} : { amr: input.amr })
      })
      const token = fastify.jwt.sign(claims)
      fastify.metrics.tokenIssued(input.amr?.includes('sms') === true ? 'verified_phone' : 'access')
      return { token, claims }
    },

    async verify (token) {
      const defect = headerDefect(token)
      if (defect !== undefined) throw invalidToken('token_invalid', defect)
      let claims: Record<string, unknown>
      try {
        claims = await verifySignature(token)
      } catch (error) {
        if (error instanceof TokenError && error.code === TokenError.codes.expired) {
          throw invalidToken('token_expired', 'The access token has expired.')
        }
        throw invalidToken('token_invalid', 'The access token is not valid.')
      }
      if (claims === null || typeof claims !== 'object' || Array.isArray(claims)) {
        throw invalidToken('token_invalid', 'The token payload is not an object.')
      }
      const claimDefect = claimsDefect(claims, expireSeconds, Math.floor(Date.now() / 1000), LEEWAY_SECONDS)
      if (claimDefect !== undefined) throw invalidToken('token_invalid', claimDefect)
      const accessClaims = claims as AccessClaims
      // Checked last and here, so every protected route and introspection honour them.
      // A token of a refresh session also dies with its session (reuse detected, refresh token revoked): one lookup for both.
      const revocable = accessClaims.sid === undefined ? [accessClaims.jti] : [accessClaims.jti, sessionRevocationKey(accessClaims.sid)]
      if (await store.revocations.isRevoked(...revocable)) {
        throw invalidToken('token_revoked', accessClaims.sid === undefined ? 'The access token has been revoked.' : 'The access token, or the session it belongs to, has been revoked.')
      }
      const username = usernameOfSubject(accessClaims.sub)
      if (username !== undefined) {
        const user = await store.users.find(username)
        if (user === null || user.user_id !== accessClaims.uid) throw invalidToken('token_revoked', 'The user this token was issued to no longer exists.')
      }
      return accessClaims
    },

    async revoke (claims) {
      // Kept while the verifier could still accept the token: its exp plus the clock leeway.
      await store.revocations.revoke(claims.jti, new Date((claims.exp + LEEWAY_SECONDS) * 1000))
      await fastify.events.emit('token.revoked', {
        jti: claims.jti,
        sub: claims.sub,
        reason: 'revoked',
        ...(typeof claims.client_id === 'string' ? { client_id: claims.client_id } : {})
      })
    }
  }
  fastify.decorate('tokens', tokens)
}

export default fp(jwtPlugin, { name: 'jwt', dependencies: ['config', 'keys', 'store', 'events'] })
