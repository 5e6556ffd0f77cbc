import { hash, randomUUID } from 'node:crypto'
import { randomBase64url } from '../lib/random.js'
import fp from 'fastify-plugin'
import type { FastifyInstance } from 'fastify'
import { usernameOfSubject } from '../lib/access-token.js'
import { Problem } from '../lib/problem.js'
import type { RefreshTokenRecord } from '../lib/store.js'
import type { IssueInput, IssuedToken } from './jwt.js'
import { LEEWAY_SECONDS, sessionRevocationKey } from './jwt.js'

export interface SessionTokens {
  access: IssuedToken
  /** The opaque refresh token (shown once; only its hash is stored). */
  refreshToken?: string
}

/** What the refresh request presented besides the token: its client and the proof of its binding. */
export interface RefreshPresentation {
  /** client_id of the request, or the authenticated client's id. */
  clientId?: string
  /** X-Instance-Id of the request. */
  instanceId?: string
  /** Thumbprint of the key a verified DPoP proof of the request was signed with. */
  dpopJkt?: string
}

type SessionRef = Pick<RefreshTokenRecord, 'family_id' | 'family_expires_at' | 'sub' | 'client_id'>
/** What every refresh token of a session shares: the family's id, client, subject, binding and end. */
type SessionFamily = Omit<RefreshTokenRecord, 'hash' | 'issued_at' | 'expires_at' | 'used_at'>

export interface SessionService {
  /** An access token, and for a device-bound, key-bound or login token (REFRESH_TOKENS) a refresh token starting a session. */
  start (input: IssueInput & { clientId: string }): Promise<SessionTokens>
  /**
   * RFC 6749 section 6 with rotation: the refresh token is spent and a new pair issued. A token
   * presented a second time ends its whole session (OAuth 2.0 Security BCP section 4.14.2).
   */
  refresh (refreshToken: string, presented: RefreshPresentation): Promise<SessionTokens>
  /** The session's record, while its family lasts (revocation checks who may end it). */
  find (refreshToken: string): Promise<RefreshTokenRecord | null>
  /** Ends a session: its refresh tokens and every access token issued in it. */
  end (record: SessionRef, reason: 'revoked' | 'reuse_detected' | 'user_changed'): Promise<void>
}

declare module 'fastify' {
  interface FastifyInstance {
    sessions: SessionService
  }
}

/** The TokenResponse body (POST /gen-jwt, login, password change) for what a session start issued. */
export function tokenResponse (issued: SessionTokens): { token: string, token_type: 'Bearer' | 'DPoP', expires_in: number, expires_at: string, instance_id?: string, refresh_token?: string } {
  const { token, claims } = issued.access
  return {
    token,
    // RFC 9449 section 5: a key-bound token is of type DPoP.
    token_type: claims.cnf === undefined ? 'Bearer' : 'DPoP',
    expires_in: claims.exp - claims.iat,
    expires_at: new Date(claims.exp * 1000).toISOString(),
    ...(claims.instance_id === undefined ? {} : { instance_id: claims.instance_id }),
    ...(issued.refreshToken === undefined ? {} : { refresh_token: issued.refreshToken })
  }
}

const REFRESH_PREFIX = 'rt_'

function invalidGrant (detail: string): Problem {
  return new Problem(400, 'invalid_grant', detail)
}

export function refreshTokenHash (token: string): string {
  return hash('sha256', token, 'base64url')
}

/** Refresh tokens look like this (and JWTs never do): revocation tells them apart by shape. */
export function isRefreshToken (token: string): boolean {
  return /^rt_[A-Za-z0-9_-]{43}$/.test(token)
}

async function sessionsPlugin (fastify: FastifyInstance): Promise<void> {
  const { store, tokens, config } = fastify
  const { enabled, idleSeconds, maxSeconds } = config.jwt.refresh

  const end = async (record: SessionRef, reason: 'revoked' | 'reuse_detected' | 'user_changed'): Promise<void> => {
    // Until every access token of the session has expired as well.
    const until = new Date(Math.max(record.family_expires_at.getTime(), Date.now()) + (config.jwt.expireSeconds + LEEWAY_SECONDS) * 1000)
    await store.revocations.revoke(sessionRevocationKey(record.family_id), until)
    await fastify.events.emit('token.revoked', { session_id: record.family_id, sub: record.sub, client_id: record.client_id, reason })
  }

  /** The next link of a family (or its first): stored as a hash, bound like the access token. */
  const link = async (family: SessionFamily, now: Date): Promise<string> => {
    const token = `${REFRESH_PREFIX}${randomBase64url(32)}`
    // This link's own fields win over anything the family carries (Object.assign: on Node 20 a
    // property written after a spread costs about 1.5 µs, docs/benchmark.md).
    await store.refreshTokens.create(Object.assign({}, family, {
      hash: refreshTokenHash(token),
      issued_at: now,
      expires_at: new Date(Math.min(now.getTime() + idleSeconds * 1000, family.family_expires_at.getTime()))
    }))
    return token
  }

  const accessFor = async (record: SessionFamily): Promise<IssuedToken> =>
    await tokens.issue({
      sub: record.sub,
      extra: { client_id: record.client_id, sid: record.family_id, ...(record.uid === undefined ? {} : { uid: record.uid }) },
      ...(record.instance_id === undefined ? {} : { instance_id: record.instance_id }),
      ...(record.jkt === undefined ? {} : { cnf: { jkt: record.jkt } }),
      ...(record.amr === undefined ? {} : { amr: record.amr })
    })

  const sessions: SessionService = {
    async start (input) {
      const bound = input.instance_id !== undefined || input.cnf !== undefined || input.extra?.uid !== undefined
      if (!enabled || !bound) return { access: await tokens.issue(Object.assign({}, input, { extra: Object.assign({}, input.extra, { client_id: input.clientId }) })) }
      const now = new Date()
      const family = {
        family_id: randomUUID(),
        client_id: input.clientId,
        sub: input.sub,
        family_expires_at: new Date(now.getTime() + maxSeconds * 1000),
        ...(input.extra?.uid === undefined ? {} : { uid: input.extra.uid }),
        ...(input.instance_id === undefined ? {} : { instance_id: input.instance_id }),
        ...(input.cnf === undefined ? {} : { jkt: input.cnf.jkt }),
        ...(input.amr === undefined ? {} : { amr: input.amr })
      }
      const refreshToken = await link(family, now)
      fastify.metrics.tokenIssued('refresh')
      return { access: await accessFor(family), refreshToken }
    },

    async refresh (refreshToken, presented) {
      const now = new Date()
      const hash = refreshTokenHash(refreshToken)
      const found = isRefreshToken(refreshToken) ? await store.refreshTokens.find(hash, now) : null
      if (found === null) throw invalidGrant('The refresh token is not valid: unknown, expired or ended.')
      // The binding is checked before the token is spent: a request without it changes nothing.
      if (presented.clientId !== undefined && presented.clientId !== found.client_id) throw invalidGrant('This refresh token was issued to another client.')
      if (found.instance_id !== undefined && presented.instanceId !== found.instance_id) {
        throw invalidGrant('This refresh token is bound to a device: send its instance id in X-Instance-Id.')
      }
      if (found.jkt !== undefined && presented.dpopJkt !== found.jkt) {
        throw invalidGrant('This refresh token is bound to a key: send a DPoP proof signed with it.')
      }
      const use = await store.refreshTokens.use(hash, now)
      if (use.outcome === 'reused') {
        await end(use.record, 'reuse_detected')
        fastify.metrics.refreshReuse()
        fastify.log.warn({ family: use.record.family_id.slice(0, 8), client: use.record.client_id }, 'refresh token reuse: session ended')
        throw invalidGrant('This refresh token was already used: the session has been ended for safety. Sign in again.')
      }
      if (use.outcome === 'unknown') throw invalidGrant('The refresh token is not valid: unknown, expired or ended.')
      const { record } = use
      if (await store.revocations.isRevoked(sessionRevocationKey(record.family_id))) throw invalidGrant('This session has ended.')
      if (record.uid !== undefined) {
        const user = await store.users.find(usernameOfSubject(record.sub) ?? '')
        if (user === null || user.user_id !== record.uid) {
          await end(record, 'user_changed')
          throw invalidGrant('This session has ended: the password was changed or the user removed.')
        }
      }
      const { hash: _hash, issued_at: _issued, expires_at: _expires, used_at: _used, ...family } = record
      const next = await link(family, now)
      return { access: await accessFor(family), refreshToken: next }
    },

    async find (refreshToken) {
      return isRefreshToken(refreshToken) ? await store.refreshTokens.find(refreshTokenHash(refreshToken), new Date()) : null
    },

    end
  }
  fastify.decorate('sessions', sessions)
}

export default fp(sessionsPlugin, { name: 'sessions', dependencies: ['config', 'store', 'jwt', 'metrics', 'events'] })
