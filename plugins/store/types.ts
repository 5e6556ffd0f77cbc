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
  readonly transactions: TransactionRepository
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

/** One App Verify token issue (contract §6); only the token's SHA-256 is kept. */
export interface TransactionRecord {
  xid: string
  /** E.164. */
  phone_number: string
  token_sha256: string
  issued_at: Date
  expires_at: Date
  /** `client:<key id>`, the access token's sub, or `public`. */
  issued_to: string
}

export interface TransactionPage {
  items: TransactionRecord[]
  /** Where the next page starts; absent on the last page. */
  next?: { issued_at: Date, xid: string }
}

/** Records are kept this long after their token expires, then forgotten (and their xid free again). */
export const TRANSACTION_RETENTION_MS = 30 * 86_400_000

export interface TransactionRepository {
  /** Records an issue; DuplicateKeyError when the xid is already recorded. */
  record (transaction: TransactionRecord): Promise<void>
  find (xid: string): Promise<TransactionRecord | null>
  /** A phone number's transactions, newest first (issued_at, then xid, descending), after `after`. */
  listByPhone (phoneNumber: string, options: { limit: number, after?: { issued_at: Date, xid: string } }): Promise<TransactionPage>
}
