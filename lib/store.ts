/**
 * The persistence boundary. Two implementations keep the same contract (test/plugins/store/contract.ts):
 * the embedded memory store for development and tests, and MongoDB for production.
 * Each domain gets its own repository so a route never touches a driver.
 */
export interface Store {
  readonly kind: 'memory' | 'mongodb'
  /** Resolves when the backing database answers; rejects with StoreUnavailableError otherwise. */
  ping (): Promise<void>
  close (): Promise<void>
  readonly transactions: TransactionRepository
  readonly verifications: VerificationRepository
  readonly users: UserRepository
  readonly revocations: RevocationRepository
  readonly dpopProofs: ReplayCache
  readonly loginAttempts: LoginAttemptRepository
  readonly refreshTokens: RefreshTokenRepository
  readonly webhookDeliveries: WebhookDeliveryRepository
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

/** Statuses as stored; `expired` and `max_attempts_reached` are derived from expires_at and attempts_left. */
export type StoredVerificationStatus = 'pending' | 'approved' | 'canceled'

/** An SMS verification (contract §7). The code exists only as code_hash. */
export interface VerificationRecord {
  /** This verification's own id: an auth_id may start a new verification once its previous one ended. */
  id: string
  auth_id: string
  /** E.164; pinned for the life of the verification. */
  recipient: string
  code_hash: string
  status: StoredVerificationStatus
  attempts_left: number
  sends: number
  /** Increments with every resend, so a failed resend is undone only if nothing replaced it. */
  version: number
  created_at: Date
  last_sent_at: Date
  /** When the current code stops being valid. */
  expires_at: Date
  ended_at?: Date
  /** The provider's id of the latest SMS (Twilio's message sid), when it gives one. */
  message_id?: string
  /** What the provider last reported about that SMS (status callbacks). */
  delivery?: DeliveryStatus
  /** Set once its expiry has been reported (the verification.expired event). */
  expiry_reported?: true
  /** TTL: the record is deleted after this (VERIFICATION_RETENTION after it ends or expires). */
  purge_at: Date
}

export interface ResendInput {
  /** The verification the caller looked at: a replacement under the same auth_id is left alone. */
  id: string
  recipient: string
  codeHash: string
  now: Date
  expiresAt: Date
  purgeAt: Date
  /** Earliest last_sent_at that allows a resend now (now - SMS_RESEND_COOLDOWN). */
  sentBefore: Date
  maxSends: number
}

export type CodeState = Pick<VerificationRecord, 'code_hash' | 'last_sent_at' | 'expires_at' | 'purge_at' | 'sends'>

/**
 * Every state change is one atomic conditional update, so concurrent requests on one auth_id
 * cannot overspend attempts, approve twice or resurrect an ended verification.
 */
export interface VerificationRepository {
  /**
   * Inserts a verification, replacing an ended one (approved, canceled or past expires_at) with the
   * same auth_id; DuplicateKeyError while one with that auth_id is still active.
   */
  create (record: VerificationRecord): Promise<void>
  /** The record (whatever its status) until it is purged, else null. */
  find (authId: string, now: Date): Promise<VerificationRecord | null>
  /**
   * Swaps in a new code if the verification is pending, unexpired, has attempts left, was last
   * sent before `sentBefore`, has fewer than maxSends sends and the same recipient. Attempts are
   * untouched. Returns the updated record, or null when a condition failed.
   */
  resend (authId: string, input: ResendInput): Promise<VerificationRecord | null>
  /**
   * Sets the code state while pending, only if nothing changed it since (same id and version): undoes
   * a resend whose SMS failed, and confirms a new verification's provisional expiry once its SMS went out.
   */
  restoreCode (authId: string, id: string, version: number, previous: CodeState): Promise<boolean>
  /** Removes a just-created verification whose SMS failed (same id only). */
  remove (authId: string, id: string): Promise<boolean>
  /**
   * Spends one attempt: decrements attempts_left only while pending, unexpired and above zero,
   * and returns the record after the decrement, or null when no attempt could be spent.
   */
  registerAttempt (authId: string, now: Date): Promise<VerificationRecord | null>
  /**
   * pending → approved for exactly one caller, only while the code it checked (id, code_hash) is
   * still current and unexpired; refunds the attempt the successful check spent.
   */
  approve (authId: string, id: string, codeHash: string, now: Date, purgeAt: Date): Promise<boolean>
  /** pending → canceled while it is still usable (unexpired, attempts left). */
  cancel (authId: string, now: Date, purgeAt: Date): Promise<boolean>
  /**
   * Reserves one SMS to `recipient` in the sliding window (now - windowMs, now]: held under sendId
   * while fewer than `limit` sends are held in that window, refused otherwise. One atomic step, so
   * concurrent senders cannot overspend. `retryAt` is when the oldest held send leaves the window.
   */
  reserveRecipientSend (recipient: string, sendId: string, now: Date, windowMs: number, limit: number): Promise<RecipientReservation>
  /** Gives a reservation back: the provider did not take the SMS, so it does not count. */
  releaseRecipientSend (recipient: string, sendId: string): Promise<void>
  /** The provider took the SMS under this id: its delivery is `queued` until a status callback says more. */
  noteSent (authId: string, id: string, messageId: string): Promise<void>
  /**
   * A status callback: the verification whose latest SMS has this id moves to `delivery`, never
   * backwards (callbacks arrive out of order) and never out of a final state (delivered, failed,
   * undelivered). The record's auth_id and id when it changed, else null.
   */
  recordDelivery (messageId: string, delivery: DeliveryStatus): Promise<{ auth_id: string, id: string } | null>
  /**
   * Up to `limit` verifications that expired while pending with attempts left, each marked as
   * reported in the same atomic update: of concurrent sweepers on any instance, one gets each.
   */
  claimExpired (now: Date, limit: number): Promise<Array<{ auth_id: string, id: string }>>
}

export type DeliveryStatus = 'queued' | 'sent' | 'delivered' | 'failed' | 'undelivered'

/** How far along each delivery status is: a callback only moves a verification forward. */
export const DELIVERY_RANK: Record<DeliveryStatus, number> = { queued: 0, sent: 1, delivered: 2, failed: 2, undelivered: 2 }

/** The statuses a callback may move `from` to. */
export function laterDeliveries (to: DeliveryStatus): DeliveryStatus[] {
  return (Object.keys(DELIVERY_RANK) as DeliveryStatus[]).filter((from) => DELIVERY_RANK[from] < DELIVERY_RANK[to])
}

export interface RecipientReservation {
  reserved: boolean
  retryAt: Date
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
  /**
   * A new password hash and a new user_id (so every token issued before stops working), only if
   * the user still has `currentUserId`: false when the user is gone or changed meanwhile.
   */
  replaceCredentials (username: string, currentUserId: string, passwordHash: string, newUserId: string): Promise<boolean>
  /** True when a user was deleted. */
  delete (username: string): Promise<boolean>
}

/** Revoked access tokens by jti, each kept until the token would have expired anyway. */
export interface RevocationRepository {
  /** Idempotent: revoking a revoked jti again changes nothing. */
  revoke (jti: string, expiresAt: Date): Promise<void>
  /** True when any of the keys is revoked (a token's jti and its session's key: one lookup). */
  isRevoked (...keys: string[]): Promise<boolean>
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

/** What a reservation found: whether it was counted, and the window it was counted in (or refused by). */
export interface AttemptReservation {
  reserved: boolean
  window: AttemptWindow
}

/**
 * Login-attempt counters in fixed windows, shared by every instance that shares the store. An
 * attempt is reserved before the password is checked, atomically, so concurrent attempts cannot
 * all slip in under the limit; a successful login gives its reservation back or clears the window.
 */
export interface LoginAttemptRepository {
  /**
   * Counts one attempt while the running window holds fewer than `max`; an ended (or absent)
   * window starts again at 1 and lasts windowMs. Refused, and nothing counted, at `max`.
   */
  reserve (key: string, max: number, windowMs: number): Promise<AttemptReservation>
  /** Gives one counted attempt back (never below zero). */
  release (key: string): Promise<void>
  /** The running window, or null when there is none. */
  get (key: string): Promise<AttemptWindow | null>
  clear (key: string): Promise<void>
}

/**
 * A refresh token, stored only as the SHA-256 of its value: one link of a rotation family. Every
 * use makes the next link; a link used twice gives the family away (OAuth 2.0 Security BCP).
 */
export interface RefreshTokenRecord {
  hash: string
  family_id: string
  /** The API client the session belongs to. */
  client_id: string
  sub: string
  /** Login sessions: the user's id when the family started; a password change gives the user a new one. */
  uid?: string
  instance_id?: string
  /** DPoP-bound sessions: the key's thumbprint; a refresh needs a proof from that key. */
  jkt?: string
  amr?: string[]
  issued_at: Date
  /** Unused past this (the idle lifetime), the token is dead. */
  expires_at: Date
  /** The family's absolute end; the record is kept until then, so a late replay is still recognised. */
  family_expires_at: Date
  used_at?: Date
}

/** What presenting a refresh token found: first use (now spent), a second use, or nothing usable. */
export type RefreshTokenUse =
  | { outcome: 'fresh', record: RefreshTokenRecord }
  | { outcome: 'reused', record: RefreshTokenRecord }
  | { outcome: 'unknown' }

export interface RefreshTokenRepository {
  /** Throws DuplicateKeyError for a hash already stored. */
  create (record: RefreshTokenRecord): Promise<void>
  /**
   * Spends the token atomically: of concurrent uses exactly one is `fresh`; later ones are
   * `reused` (until the family ends); an absent, idle-expired or ended one is `unknown`.
   */
  use (hash: string, now: Date): Promise<RefreshTokenUse>
  /** The record (used or not) while its family lasts; null otherwise. */
  find (hash: string, now: Date): Promise<RefreshTokenRecord | null>
}

export type WebhookDeliveryStatus = 'pending' | 'delivered' | 'failed'

/** One event for one endpoint: queued in the store, so it survives a restart (on MongoDB). */
export interface WebhookDeliveryRecord {
  /** `${event_id}:${endpoint_id}`: unique, so an event is queued once per endpoint. */
  id: string
  event_id: string
  event_type: string
  endpoint_id: string
  /** The JSON body, exactly as it is signed and sent on every attempt. */
  payload: string
  status: WebhookDeliveryStatus
  attempts: number
  /** When the next attempt is due; while an attempt runs, the end of its lease. */
  next_attempt_at: Date
  created_at: Date
  last_attempt_at?: Date
  /** The receiver's last status code, or the reason no answer came (`timeout`, `connection_refused`, ...). */
  last_result?: string
  delivered_at?: Date
  /** When the record is removed (a retention after it ends). */
  purge_at: Date
}

export interface WebhookDeliveryRepository {
  /** Queues deliveries; one already queued (same id) is left as it is. */
  enqueue (deliveries: WebhookDeliveryRecord[]): Promise<void>
  /**
   * Claims up to `limit` pending deliveries that are due, each atomically: its next_attempt_at
   * moves to now + leaseMs, so no other worker (or instance) takes it meanwhile.
   */
  claimDue (now: Date, leaseMs: number, limit: number): Promise<WebhookDeliveryRecord[]>
  /** Records an attempt's outcome: delivered, or pending again at `retryAt`, or failed for good (retryAt null). */
  settle (id: string, outcome: { delivered: boolean, result: string, at: Date, retryAt: Date | null, purgeAt: Date }): Promise<void>
  /** The delivery log, newest first. */
  list (filter: { status?: WebhookDeliveryStatus, eventType?: string, limit: number }): Promise<WebhookDeliveryRecord[]>
}
