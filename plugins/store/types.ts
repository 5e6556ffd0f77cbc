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
