/**
 * The persistence boundary. Two implementations keep the same contract (test/store/contract.ts):
 * the embedded memory store for development and tests, and MongoDB for production.
 * Each domain gets its own repository so a route never touches a driver.
 */
export interface Store {
  readonly kind: 'memory' | 'mongodb'
  /** Resolves when the backing database answers; rejects with StoreUnavailableError otherwise. */
  ping (): Promise<void>
  close (): Promise<void>
  readonly accessTokens: AccessTokenRepository
  readonly users: UserRepository
  readonly revocations: RevocationRepository
  readonly dpopProofs: ReplayCache
  readonly loginAttempts: LoginAttemptRepository
}

/** An access token this service issued: enough to revoke, introspect and audit it. */
export interface AccessTokenRecord {
  jti: string
  sub: string
  instance_id?: string
  issued_at: Date
  expires_at: Date
}

export interface AccessTokenRepository {
  /** Records an issued token; it is forgotten once it expires. */
  record (token: AccessTokenRecord): Promise<void>
  find (jti: string): Promise<AccessTokenRecord | null>
}

/** The database could not be reached or did not answer in time. */
export class StoreUnavailableError extends Error {
  constructor (message = 'The store is unreachable') {
    super(message)
    this.name = 'StoreUnavailableError'
  }
}

/** A unique key (jti, xid, username) is already taken. */
export class DuplicateKeyError extends Error {
  constructor (message = 'Duplicate key') {
    super(message)
    this.name = 'DuplicateKeyError'
  }
}

/** Every key reaching a lookup passes through here, so no operator object can become a filter. */
export function storeKey (value: unknown): string {
  if (typeof value !== 'string') throw new TypeError('store keys must be strings')
  return value
}

/** A login account (contract §4); the password is kept only as a scrypt hash. */
export interface UserRecord {
  /** Normalised (NFKC, lower-case); unique. */
  username: string
  /** Fresh for every creation: tokens carry it, so a re-created user never revives old tokens. */
  user_id: string
  password_hash: string
  created_at: Date
}

export interface UserRepository {
  /** Throws DuplicateKeyError when the username is taken. */
  create (user: UserRecord): Promise<void>
  find (username: string): Promise<UserRecord | null>
  /** True when a user was deleted. */
  delete (username: string): Promise<boolean>
}

/** Revoked access tokens by jti, each kept until the token would have expired anyway. */
export interface RevocationRepository {
  /** Idempotent: revoking a revoked jti again changes nothing. */
  revoke (jti: string, expiresAt: Date): Promise<void>
  isRevoked (jti: string): Promise<boolean>
}

/** One-time values (DPoP proof jtis): the first use is accepted, a replay before expiry is not. */
export interface ReplayCache {
  /** True on first use (or once the earlier entry expired); false for a replay. */
  use (key: string, expiresAt: Date): Promise<boolean>
}

export interface AttemptWindow {
  count: number
  resets_at: Date
}

/** Failed-login counters in fixed windows, shared by every instance that shares the store. */
export interface LoginAttemptRepository {
  /** Counts one failure; an ended window starts again at 1 and lasts windowMs. */
  fail (key: string, windowMs: number): Promise<AttemptWindow>
  /** The running window, or null when there is none. */
  get (key: string): Promise<AttemptWindow | null>
  clear (key: string): Promise<void>
}
