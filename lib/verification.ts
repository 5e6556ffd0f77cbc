import { randomUUID } from 'node:crypto'
import type { Config } from './config.js'
import { generateCode, hashCode, hashesMatch, isWellFormedCode, renderAuthMessage } from './otp.js'
import { maskPhone, parsePhone } from './phone.js'
import { badRequest, conflict, Problem, tooManyRequests } from './problem.js'
import type { CodeState, DeliveryStatus, VerificationRecord, VerificationRepository } from './store.js'
import { DuplicateKeyError } from './store.js'
import type { SmsSender } from './sms.js'
import { SmsDeliveryError } from './sms.js'

/** started/resent: a code went out; the rest: how a check or a cancel ended. */
export type VerificationOutcome = 'started' | 'resent' | 'approved' | 'wrong_code' | 'expired' | 'exhausted' | 'canceled'

export type VerificationStatus = 'pending' | 'approved' | 'expired' | 'max_attempts_reached' | 'canceled'

export interface VerificationView {
  auth_id: string
  status: VerificationStatus
  recipient: string
  created_at: string
  expires_at: string
  attempts_left: number
  sends_left: number
  ended_at?: string
  delivery?: DeliveryStatus
}

export interface StartedVerification {
  auth_id: string
  status: 'pending'
  recipient: string
  expires_at: string
  attempts_left: number
  sends_left: number
}

export interface ApprovedVerification {
  authenticated: true
  auth_id: string
  status: 'approved'
  message: string
  token?: string
}

/** Which verification an outcome is about: ids only, never the code or the recipient. */
export interface VerificationRef {
  auth_id: string
  verification_id?: string
}

export interface VerificationDeps {
  repository: VerificationRepository
  sender: SmsSender
  otp: Config['otp']
  sms: Config['sms']
  /** Issues the verified-phone token (jwt plugin); called only after the approval is committed. */
  issueToken: (phone: string, authId: string) => Promise<string>
  /** Reports an SMS failure without its text (the text holds the code). */
  onDeliveryFailure?: (reason: string, verification: VerificationRef) => void | Promise<void>
  /** Each event a verification goes through, for metrics and webhooks (awaited, so an event is queued before the answer). */
  onOutcome?: (outcome: VerificationOutcome, verification: VerificationRef) => void | Promise<void>
  now?: () => Date
  /** The URL providers report delivery to (Twilio's StatusCallback), when the service has a public URL. */
  statusCallback?: string
}

const HOUR_MS = 3_600_000
const RACE_RETRIES = 3
/**
 * A new verification is provisional until its SMS is accepted: if the store fails after the insert
 * (so the compensating delete fails too), it expires by itself within this time instead of staying
 * pending for the whole code lifetime. Longer than a delivery can take (provider deadline 5 s).
 */
export const PROVISIONAL_SECONDS = 30
export const APPROVED_MESSAGE = 'Success: Authorization code verified.' as const

/** Stored status plus what time and attempts say: expiry and exhaustion are derived, never written. */
export function effectiveStatus (record: VerificationRecord, now: Date): VerificationStatus {
  if (record.status !== 'pending') return record.status
  if (record.attempts_left <= 0) return 'max_attempts_reached'
  if (record.expires_at <= now) return 'expired'
  return 'pending'
}

/** Flowroute's 400 answers: problem fields plus reason, message, status and attempts_left. */
function checkProblem (code: string, reason: string, message: string, extra: { status?: VerificationStatus, attempts_left?: number } = {}): Problem {
  const { status, ...rest } = extra
  // RFC 9457 reserves `status` for the HTTP status, so the verification's status travels as verification_status.
  return badRequest(code, message, { reason, message, ...rest, ...(status === undefined ? {} : { verification_status: status }) })
}

/** Flowroute's message for any malformed check input (its InvalidAPIUsage payload's reason). */
export const FLOWROUTE_INPUT_ERROR = "Required arguments: 'auth_id' (str), 'code' (int)"

/**
 * A code as Flowroute compares it, `int(code) == stored` in Python: "0042", "42", " 42 ", "+42" and
 * "4_2" are all the code 0042 (for a length of 4). undefined when Python's int() refuses the text
 * (Flowroute's "Input error"); null for an integer no code of this length can equal (negative, or
 * more digits), which is a wrong code that still spends an attempt.
 */
export function flowrouteCode (input: string, length: number): string | null | undefined {
  const match = /^[\s]*([+-]?)(\d+(?:_\d+)*)[\s]*$/.exec(input)
  if (match === null) return undefined
  const digits = (match[2] ?? '').replaceAll('_', '').replace(/^0+(?=\d)/, '')
  if ((match[1] === '-' && digits !== '0') || digits.length > length) return null
  return digits.padStart(length, '0')
}

export function invalidApiUsage (message: string): Problem {
  return checkProblem('invalid_api_usage', 'InvalidAPIUsage', message)
}

/**
 * SMS verification (contract §7): Flowroute's API, Twilio Verify's protections.
 *
 * Concurrency, all through single atomic conditional updates in the store:
 * 1. registerAttempt spends one attempt BEFORE the code is compared (pending, unexpired,
 *    attempts_left > 0 in the filter), so N concurrent guesses spend at most attempts_left
 *    attempts in total and none is compared without having been paid for.
 * 2. The code is compared against the post-image of that same update (constant time).
 * 3. A match then approves with a second conditional update (pending, same id and code_hash,
 *    unexpired): exactly one of N concurrent right checks flips pending → approved.
 * 4. Exhaustion is derived (attempts_left = 0), never written: a right check that paid for its
 *    attempt is still approved even if concurrent wrong checks spent the rest meanwhile.
 * A resend swaps the code hash but never touches attempts_left.
 */
export class VerificationService {
  private readonly now: () => Date

  constructor (private readonly deps: VerificationDeps) {
    this.now = deps.now ?? (() => new Date())
  }

  /** POST /v1/verifications: a new verification, or a resend for an active one with the same auth_id. */
  async start (authId: string, recipientInput: unknown): Promise<StartedVerification> {
    const phone = parsePhone(recipientInput)
    if (phone === undefined) {
      throw badRequest('invalid_phone_number', 'recipient must be an E.164 number (+15551234567) or the 11-digit form 15551234567.')
    }
    const allowed = this.deps.sms.allowedCountries
    if (allowed.length > 0 && (phone.country === undefined || !allowed.includes(phone.country))) {
      throw new Problem(403, 'destination_not_allowed', 'SMS to this destination country is not enabled (SMS_ALLOWED_COUNTRIES).')
    }
    for (let attempt = 0; attempt < RACE_RETRIES; attempt++) {
      const started = await this.tryCreate(authId, phone.e164)
      if (started !== undefined) return started
      const existing = await this.deps.repository.find(authId, this.now())
      // Ended and purged or replaced between the two calls: creating again is the answer.
      if (existing === null || effectiveStatusIsEnded(existing, this.now())) continue
      const resent = await this.tryResend(existing, phone.e164)
      if (resent !== undefined) return resent
    }
    throw new Problem(409, 'auth_id_in_use', 'This auth_id is changing concurrently; retry.')
  }

  /** Inserts a fresh verification and sends its code; undefined when an active one holds the auth_id. */
  private async tryCreate (authId: string, recipient: string): Promise<StartedVerification | undefined> {
    const { otp, sms, repository } = this.deps
    const now = this.now()
    const code = generateCode(otp.codeLength)
    const id = randomUUID()
    const expiresAt = new Date(now.getTime() + otp.codeExpiration * 1000)
    const provisionalUntil = new Date(now.getTime() + Math.min(PROVISIONAL_SECONDS, otp.codeExpiration) * 1000)
    const record: VerificationRecord = {
      id,
      auth_id: authId,
      recipient,
      code_hash: hashCode(otp.pepper, id, code),
      status: 'pending',
      attempts_left: otp.retriesAllowed,
      sends: 1,
      version: 0,
      created_at: now,
      last_sent_at: now,
      expires_at: provisionalUntil,
      purge_at: provisionalUntil
    }
    try {
      await repository.create(record)
    } catch (error) {
      if (error instanceof DuplicateKeyError) return undefined
      throw error
    }
    // Committed first, sent second: on any failure the row is removed, so nothing stays pending.
    const messageId = await this.deliver(record, code, async () => { await repository.remove(authId, id) })
    // Delivered: the code gets its full lifetime (the same conditional update that undoes a failed resend).
    const confirmed: CodeState = {
      code_hash: record.code_hash,
      last_sent_at: now,
      expires_at: expiresAt,
      purge_at: new Date(expiresAt.getTime() + sms.retention * 1000),
      sends: record.sends
    }
    if (!await repository.restoreCode(authId, id, record.version, confirmed)) {
      throw new Problem(409, 'auth_id_in_use', 'This verification was canceled or replaced while its code was being sent; retry.')
    }
    if (messageId !== undefined) await repository.noteSent(authId, id, messageId)
    await this.deps.onOutcome?.('started', { auth_id: record.auth_id, verification_id: record.id })
    return started({ ...record, ...confirmed }, sms.maxSends)
  }

  /**
   * A resend for an active verification: same recipient, after the cooldown, within maxSends, with
   * attempts left. undefined when the record changed under us (the caller looks again).
   */
  private async tryResend (existing: VerificationRecord, recipient: string): Promise<StartedVerification | undefined> {
    const { otp, sms, repository } = this.deps
    const now = this.now()
    if (existing.recipient !== recipient) {
      throw conflict('auth_id_in_use', 'This auth_id belongs to a verification for another recipient.')
    }
    const untilExpiry = (existing.expires_at.getTime() - now.getTime()) / 1000
    if (existing.attempts_left <= 0) {
      throw tooManyRequests('max_attempts_reached', 'Every attempt for this verification is spent; a new one can start when it expires.', untilExpiry)
    }
    if (existing.sends >= sms.maxSends) {
      throw tooManyRequests('too_many_sends', `At most ${sms.maxSends} SMS per verification; a new one can start when it expires.`, untilExpiry)
    }
    const cooldownLeft = existing.last_sent_at.getTime() + sms.resendCooldown * 1000 - now.getTime()
    if (cooldownLeft > 0) {
      throw tooManyRequests('resend_too_soon', `Wait ${Math.ceil(cooldownLeft / 1000)} s before requesting another code.`, cooldownLeft / 1000)
    }
    const code = generateCode(otp.codeLength)
    const expiresAt = new Date(now.getTime() + otp.codeExpiration * 1000)
    const updated = await repository.resend(existing.auth_id, {
      id: existing.id,
      recipient,
      codeHash: hashCode(otp.pepper, existing.id, code),
      now,
      expiresAt,
      purgeAt: new Date(expiresAt.getTime() + sms.retention * 1000),
      sentBefore: new Date(now.getTime() - sms.resendCooldown * 1000),
      maxSends: sms.maxSends
    })
    if (updated === null) return undefined
    const previous: CodeState = {
      code_hash: existing.code_hash,
      last_sent_at: existing.last_sent_at,
      expires_at: existing.expires_at,
      purge_at: existing.purge_at,
      sends: existing.sends
    }
    // A failed resend restores the previous code: the SMS the user already has keeps working,
    // attempts stay spent, and the failed send costs neither a send nor the cooldown.
    const messageId = await this.deliver(updated, code, async () => {
      await repository.restoreCode(updated.auth_id, updated.id, updated.version, previous)
    })
    if (messageId !== undefined) await repository.noteSent(updated.auth_id, updated.id, messageId)
    await this.deps.onOutcome?.('resent', { auth_id: updated.auth_id, verification_id: updated.id })
    return started(updated, sms.maxSends)
  }

  /**
   * Reserves a send in the recipient's sliding hour, sends, and gives the reservation back when the
   * provider did not take the SMS (so refused sends never lock a number out); undoes the store change
   * when either fails.
   */
  private async deliver (record: VerificationRecord, code: string, undo: () => Promise<void>): Promise<string | undefined> {
    const { sms, sender, repository } = this.deps
    const now = this.now()
    const sendId = randomUUID()
    let reserved = false
    try {
      const reservation = await repository.reserveRecipientSend(record.recipient, sendId, now, HOUR_MS, sms.recipientHourlyLimit)
      if (!reservation.reserved) {
        throw tooManyRequests('recipient_limit_reached', 'Too many codes were sent to this number in the last hour; try later.', (reservation.retryAt.getTime() - now.getTime()) / 1000)
      }
      reserved = true
      return await sender.send({
        to: record.recipient,
        body: renderAuthMessage(sms.authMessage, code, sms.orgName),
        authId: record.auth_id,
        ...(this.deps.statusCallback === undefined ? {} : { statusCallback: this.deps.statusCallback })
      })
    } catch (error) {
      if (reserved && error instanceof SmsDeliveryError) await repository.releaseRecipientSend(record.recipient, sendId).catch(() => {})
      await undo()
      if (error instanceof SmsDeliveryError) {
        await this.deps.onDeliveryFailure?.(error.reason, { auth_id: record.auth_id, verification_id: record.id })
        throw new Problem(502, 'sms_delivery_failed', 'The SMS provider did not accept the message; no verification was left pending. Try again.')
      }
      throw error
    }
  }

  /** POST /v1/verifications/check and Flowroute's GET form. */
  async check (authId: unknown, code: unknown): Promise<ApprovedVerification> {
    if (typeof authId !== 'string' || authId.length < 1 || authId.length > 120) {
      throw invalidApiUsage('auth_id must be a string of 1 to 120 characters.')
    }
    if (!isWellFormedCode(code, this.deps.otp.codeLength)) {
      throw invalidApiUsage(`code must be a string of exactly ${this.deps.otp.codeLength} ASCII digits.`)
    }
    return await this.spend(authId, code, false)
  }

  /**
   * The Flowroute-compatible check: the code is compared as Flowroute compares it, as an integer
   * (flowrouteCode), and a verification that has ended (approved, exhausted, canceled) is unknown,
   * as Flowroute deletes its record then. Attempts are spent exactly as in check().
   */
  async checkAsFlowroute (authId: string, codeInput: string): Promise<ApprovedVerification> {
    const code = flowrouteCode(codeInput, this.deps.otp.codeLength)
    if (code === undefined || authId.length < 1 || authId.length > 120) throw invalidApiUsage(FLOWROUTE_INPUT_ERROR)
    return await this.spend(authId, code, true)
  }

  /** Spends one attempt, then compares; a null code is an integer no code can equal (it only spends). */
  private async spend (authId: string, code: string | null, endedIsUnknown: boolean): Promise<ApprovedVerification> {
    const { otp, repository } = this.deps
    for (let attempt = 0; attempt < RACE_RETRIES; attempt++) {
      const now = this.now()
      const record = await repository.registerAttempt(authId, now)
      if (record === null) {
        const current = await repository.find(authId, now)
        // Replaced by a new verification between the two calls: try to pay for an attempt again.
        if (current !== null && effectiveStatus(current, now) === 'pending') continue
        throw this.notCheckable(endedIsUnknown ? forgetEnded(current, now) : current, now)
      }
      if (code === null || !hashesMatch(record.code_hash, hashCode(otp.pepper, record.id, code))) {
        const exhausted = record.attempts_left <= 0
        await this.deps.onOutcome?.(exhausted ? 'exhausted' : 'wrong_code', { auth_id: authId, verification_id: record.id })
        throw checkProblem('invalid_auth_code', 'InvalidAuthCode', exhausted
          ? 'Incorrect code. No attempts are left: this verification has ended.'
          : `Incorrect code. ${record.attempts_left} attempt${record.attempts_left === 1 ? '' : 's'} left.`,
        { status: exhausted ? 'max_attempts_reached' : 'pending', attempts_left: record.attempts_left })
      }
      const approved = await repository.approve(authId, record.id, record.code_hash, now, new Date(now.getTime() + this.deps.sms.retention * 1000))
      if (!approved) {
        const current = await repository.find(authId, now)
        throw this.notCheckable(endedIsUnknown ? forgetEnded(current, now) : current, now)
      }
      await this.deps.onOutcome?.('approved', { auth_id: authId, verification_id: record.id })
      const token = this.deps.sms.verifiedToken ? await this.deps.issueToken(record.recipient, authId) : undefined
      return {
        authenticated: true,
        auth_id: authId,
        status: 'approved',
        message: APPROVED_MESSAGE,
        ...(token === undefined ? {} : { token })
      }
    }
    throw checkProblem('invalid_auth_code', 'InvalidAuthCode', 'The verification changed while it was checked; try again.')
  }

  /** Why no attempt could be spent (or the approval lost): unknown, expired, spent or ended. */
  private notCheckable (record: VerificationRecord | null, now: Date): Problem {
    if (record === null) {
      return checkProblem('unknown_auth_id', 'UnknownAuthId', 'No verification exists for this auth_id.', { attempts_left: 0 })
    }
    const status = effectiveStatus(record, now)
    const attemptsLeft = Math.max(0, record.attempts_left)
    switch (status) {
      case 'expired':
        this.deps.onOutcome?.('expired', { auth_id: record.auth_id, verification_id: record.id })
        // As Flowroute answers: an expired code leaves no attempts, whatever was unspent.
        return checkProblem('expired_auth_code', 'ExpiredAuthCode', 'The code has expired; request a new one.', { status, attempts_left: 0 })
      case 'max_attempts_reached':
        return checkProblem('invalid_auth_code', 'InvalidAuthCode', 'No attempts are left: this verification has ended.', { status, attempts_left: 0 })
      case 'approved':
        return checkProblem('invalid_auth_code', 'InvalidAuthCode', 'This code was already used: the verification is approved.', { status, attempts_left: attemptsLeft })
      case 'canceled':
        return checkProblem('invalid_auth_code', 'InvalidAuthCode', 'This verification was canceled.', { status, attempts_left: attemptsLeft })
      default:
        // Pending again: the code was replaced by a resend while this check ran.
        return checkProblem('invalid_auth_code', 'InvalidAuthCode', 'The code was replaced by a newer one; use the latest SMS.', { status, attempts_left: attemptsLeft })
    }
  }

  /** GET /v1/verifications/{auth_id}; undefined when there is none (or it was purged). */
  async status (authId: string): Promise<VerificationView | undefined> {
    const now = this.now()
    const record = await this.deps.repository.find(authId, now)
    if (record === null) return undefined
    return {
      auth_id: record.auth_id,
      status: effectiveStatus(record, now),
      recipient: maskPhone(record.recipient),
      created_at: record.created_at.toISOString(),
      expires_at: record.expires_at.toISOString(),
      attempts_left: Math.max(0, record.attempts_left),
      sends_left: Math.max(0, this.deps.sms.maxSends - record.sends),
      ...(record.ended_at === undefined ? {} : { ended_at: record.ended_at.toISOString() }),
      ...(record.delivery === undefined ? {} : { delivery: record.delivery })
    }
  }

  /** A provider's status callback for the SMS with this id; the verification's ids when its delivery changed. */
  async recordDelivery (messageId: string, delivery: DeliveryStatus): Promise<{ auth_id: string, id: string } | null> {
    return await this.deps.repository.recordDelivery(messageId, delivery)
  }

  /** DELETE /v1/verifications/{auth_id}: a usable verification becomes canceled; an ended one stays as it is. */
  async cancel (authId: string): Promise<boolean> {
    const now = this.now()
    const canceled = await this.deps.repository.cancel(authId, now, new Date(now.getTime() + this.deps.sms.retention * 1000))
    if (canceled) {
      await this.deps.onOutcome?.('canceled', { auth_id: authId })
      return true
    }
    return (await this.deps.repository.find(authId, now)) !== null
  }
}

/** Flowroute deletes a verification once it is approved, exhausted or canceled: to its clients such a one is unknown. */
function forgetEnded (record: VerificationRecord | null, now: Date): VerificationRecord | null {
  const status = record === null ? undefined : effectiveStatus(record, now)
  return status === 'approved' || status === 'max_attempts_reached' || status === 'canceled' ? null : record
}

/** Approved, canceled or past its expiry: the auth_id may start a new verification. */
function effectiveStatusIsEnded (record: VerificationRecord, now: Date): boolean {
  return record.status !== 'pending' || record.expires_at <= now
}

function started (record: VerificationRecord, maxSends: number): StartedVerification {
  return {
    auth_id: record.auth_id,
    status: 'pending',
    recipient: maskPhone(record.recipient),
    expires_at: record.expires_at.toISOString(),
    attempts_left: record.attempts_left,
    sends_left: Math.max(0, maxSends - record.sends)
  }
}
