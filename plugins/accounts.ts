import { hash, randomUUID } from 'node:crypto'
import fp from 'fastify-plugin'
import type { FastifyInstance } from 'fastify'
import { userSubject } from '../lib/access-token.js'
import { dummyPasswordHash, hashPassword, normalizePassword, normalizeUsername, SCRYPT_PARAMS, verifyPassword } from '../lib/passwords.js'
import { badRequest, conflict, notFound, Problem, tooManyRequests } from '../lib/problem.js'
import { DuplicateKeyError } from '../lib/store.js'
import type { AttemptWindow } from '../lib/store.js'
import type { SessionTokens } from './sessions.js'

/** The client login sessions belong to: not a possible API client id (those are [a-z0-9_-]), so no API client acts on them without admin. */
export const LOGIN_CLIENT_ID = 'tokenmint:login'

/** Failed logins allowed per window, per username and per client address, before 429. */
export const LOGIN_THROTTLE = { perUsername: 5, perClient: 20, windowMs: 15 * 60_000 }

export interface AccountService {
  /** Creates a user; 400 invalid_username / invalid_password, 409 user_exists. */
  create (username: string, password: string): Promise<{ username: string, created_at: Date }>
  /** Deletes a user: tokens issued to them stop working at once; 404 user_not_found. */
  remove (username: string): Promise<void>
  /**
   * A logged-in user's new password: the current one is checked (throttled like a login), then
   * every session of the user ends (a new user id) and the caller gets a new one.
   */
  changePassword (username: string, uid: string, current: string, next: string, options?: { dpopJkt?: string }): Promise<SessionTokens>
  /** An administrator's reset: a new password, and every session of the user ends; 404 user_not_found. */
  resetPassword (username: string, password: string): Promise<void>
  /** Checks the password and issues a token; 401 invalid_credentials, 429 too_many_attempts. */
  login (username: string, password: string, client: string, options?: { dpopJkt?: string }): Promise<SessionTokens>
}

declare module 'fastify' {
  interface FastifyInstance {
    accounts: AccountService
  }
}

function tooManyAttempts (retryAfterSeconds: number): Problem {
  return tooManyRequests('too_many_attempts', 'Too many failed logins; try again later.', retryAfterSeconds)
}

function invalidCredentials (): Problem {
  // One body for unknown user, wrong password and malformed input: nothing tells them apart.
  return new Problem(401, 'invalid_credentials', 'The username or password is wrong.')
}

/** Counter keys are digests: bounded, and no raw username or address sits in the store. */
function attemptKey (kind: 'user' | 'client', value: string): string {
  return `${kind}:${hash('sha256', value, 'base64url')}`
}

async function accountsPlugin (fastify: FastifyInstance): Promise<void> {
  const { store, sessions } = fastify

  /** Seconds until a refused window resets, for Retry-After. */
  const waitFor = (window: AttemptWindow): number => Math.max(0, (window.resets_at.getTime() - Date.now()) / 1000)

  /**
   * Counts one attempt on a counter before any password is checked, atomically in the store, so
   * concurrent attempts cannot all pass while the first ones are still hashing; 429 past the limit.
   */
  const reserveAttempt = async (key: string, max: number): Promise<void> => {
    const reservation = await store.loginAttempts.reserve(key, max, LOGIN_THROTTLE.windowMs)
    if (reservation.reserved) return
    fastify.metrics.rateLimited('login')
    throw tooManyAttempts(waitFor(reservation.window))
  }

  const newPasswordHash = async (rawPassword: string): Promise<string> => {
    const password = normalizePassword(rawPassword)
    if (password === undefined) throw badRequest('invalid_password', 'Passwords are 8 to 128 characters without control characters.')
    return await hashPassword(password, { ...SCRYPT_PARAMS, ln: fastify.config.passwordHashCost })
  }

  const accounts: AccountService = {
    async create (rawUsername, rawPassword) {
      const username = normalizeUsername(rawUsername)
      if (username === undefined) throw badRequest('invalid_username', 'Usernames are 3 to 64 characters of a-z, 0-9, ".", "_" and "-".')
      const user = { username, user_id: randomUUID(), password_hash: await newPasswordHash(rawPassword), created_at: new Date() }
      try {
        await store.users.create(user)
      } catch (error) {
        if (error instanceof DuplicateKeyError) throw conflict('user_exists', 'A user with this username already exists.')
        throw error
      }
      return { username, created_at: user.created_at }
    },

    async remove (rawUsername) {
      const username = normalizeUsername(rawUsername)
      if (username === undefined || !await store.users.delete(username)) throw notFound('user_not_found', 'There is no such user.')
      await fastify.events.emit('token.revoked', { sub: userSubject(username), reason: 'user_deleted' })
    },

    async changePassword (username, uid, current, next, options = {}) {
      const hash = await newPasswordHash(next)
      const userKey = attemptKey('user', username)
      await reserveAttempt(userKey, LOGIN_THROTTLE.perUsername)
      const user = await store.users.find(username)
      const currentPassword = normalizePassword(current)
      const matches = await verifyPassword(currentPassword ?? current, user?.password_hash ?? await dummyPasswordHash(fastify.config.passwordHashCost))
      if (user === null || user.user_id !== uid) throw new Problem(401, 'token_revoked', 'This session has ended.')
      if (currentPassword === undefined || !matches) throw new Problem(403, 'invalid_credentials', 'The current password is wrong.')
      await store.loginAttempts.clear(userKey)
      const newUid = randomUUID()
      if (!await store.users.replaceCredentials(username, uid, hash, newUid)) throw new Problem(409, 'conflict', 'The account changed meanwhile; sign in again.')
      await fastify.events.emit('token.revoked', { sub: userSubject(username), reason: 'password_changed' })
      return await sessions.start({
        sub: userSubject(username),
        amr: ['pwd'],
        extra: { uid: newUid },
        ...(options.dpopJkt === undefined ? {} : { cnf: { jkt: options.dpopJkt } }),
        clientId: LOGIN_CLIENT_ID
      })
    },

    async resetPassword (rawUsername, rawPassword) {
      const hash = await newPasswordHash(rawPassword)
      const username = normalizeUsername(rawUsername)
      const user = username === undefined ? null : await store.users.find(username)
      if (username === undefined || user === null) throw notFound('user_not_found', 'There is no such user.')
      if (!await store.users.replaceCredentials(username, user.user_id, hash, randomUUID())) throw new Problem(409, 'conflict', 'The account changed meanwhile; try again.')
      await fastify.events.emit('token.revoked', { sub: userSubject(username), reason: 'password_reset' })
    },

    async login (rawUsername, rawPassword, client, options = {}) {
      const username = normalizeUsername(rawUsername)
      const userKey = attemptKey('user', username ?? rawUsername.normalize('NFKC').toLowerCase())
      const clientKey = attemptKey('client', client)
      await reserveAttempt(userKey, LOGIN_THROTTLE.perUsername)
      try {
        await reserveAttempt(clientKey, LOGIN_THROTTLE.perClient)
      } catch (error) {
        // Refused by the address: the username spends nothing.
        await store.loginAttempts.release(userKey)
        throw error
      }

      const user = username === undefined ? null : await store.users.find(username)
      const password = normalizePassword(rawPassword)
      // Unknown users are checked against a dummy hash so both failures cost one scrypt.
      const matches = await verifyPassword(password ?? rawPassword, user?.password_hash ?? await dummyPasswordHash(fastify.config.passwordHashCost))
      if (user === null || password === undefined || !matches) throw invalidCredentials()
      // Only failures count: success clears the username's window and gives the address its attempt back.
      await Promise.all([store.loginAttempts.clear(userKey), store.loginAttempts.release(clientKey)])
      return await sessions.start({
        sub: userSubject(user.username),
        amr: ['pwd'],
        extra: { uid: user.user_id },
        ...(options.dpopJkt === undefined ? {} : { cnf: { jkt: options.dpopJkt } }),
        clientId: LOGIN_CLIENT_ID
      })
    }
  }
  fastify.decorate('accounts', accounts)
}

export default fp(accountsPlugin, { name: 'accounts', dependencies: ['store', 'jwt', 'sessions', 'metrics', 'events'] })
