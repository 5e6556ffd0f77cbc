import { hash } from 'node:crypto'
import { createSigner } from 'fast-jwt'
import { badRequest } from './problem.js'
import type { Problem } from './problem.js'

/** The claims of a Telesign App Verify token, in the tutorial's order and nothing else. */
export interface AppVerifyClaims {
  iss: string
  iat: number
  exp: number
  phn: string
  xid: string
}

export interface AppVerifyClaimsInput {
  customerId: string
  nowSeconds: number
  backdate: number
  ttl: number
  phn: string
  xid: string
}

/** Backdated iat absorbs clock skew between this service and Telesign; exp counts from it. */
export function appVerifyClaims ({ customerId, nowSeconds, backdate, ttl, phn, xid }: AppVerifyClaimsInput): AppVerifyClaims {
  const iat = nowSeconds - backdate
  return { iss: customerId, iat, exp: iat + ttl, phn, xid }
}

export type AppVerifySigner = (claims: AppVerifyClaims) => string

/**
 * One HS256 signer keyed with the base64-decoded APPVERIFY_API_KEY. fast-jwt writes the header
 * as {"alg":"HS256","typ":"JWT"} when no kid is given, which is exactly what Telesign's SDKs expect.
 */
export function createAppVerifySigner (apiKeyBase64: string): AppVerifySigner {
  const key = Buffer.from(apiKeyBase64, 'base64')
  if (key.length === 0) throw new Error('APPVERIFY_API_KEY decodes to no bytes')
  // iat and exp come from the claims: fast-jwt keeps a given iat and adds no nbf without notBefore.
  const sign = createSigner({ algorithm: 'HS256', key })
  return (claims) => sign({ ...claims })
}

/** The stored fingerprint of an issued token; the token itself is never stored. */
export function tokenSha256 (token: string): string {
  return hash('sha256', token, 'hex')
}

/** Contract §6: an xid is 1..128 characters of [A-Za-z0-9._~:-] (the route schemas carry this pattern). */
export const XID_PATTERN = '^[A-Za-z0-9._~:-]{1,128}$'
const XID = new RegExp(XID_PATTERN)

/** Contract §6: 1..128 characters of [A-Za-z0-9._~:-]. */
export function isValidXid (value: unknown): value is string {
  return typeof value === 'string' && XID.test(value)
}

export function invalidXid (): Problem {
  return badRequest('invalid_xid', 'The xid must be 1..128 characters of A-Z a-z 0-9 . _ ~ : -')
}

export function invalidPhoneNumber (): Problem {
  return badRequest('invalid_phone_number', 'The phone number must be E.164 (+15551234567) or the 11-digit NANP form (15551234567).')
}

/**
 * text/plain is the default (Telesign's SDKs read the bare token); JSON only when the client
 * ranks application/json strictly above text/plain.
 */
export function prefersJson (accept: string | undefined): boolean {
  if (accept === undefined) return false
  let json = 0
  let text = 0
  for (const range of accept.split(',')) {
    const [type, ...params] = range.trim().toLowerCase().split(';').map((part) => part.trim())
    const qParam = params.find((p) => p.startsWith('q='))
    const q = qParam === undefined ? 1 : Number(qParam.slice(2))
    if (!Number.isFinite(q)) continue
    if (type === 'application/json') json = Math.max(json, q)
    else if (type === 'text/plain') text = Math.max(text, q)
    else if (type === 'text/*' || type === '*/*') text = Math.max(text, q)
  }
  return json > 0 && json > text
}

/** Where a page of transactions ends: the last item's issue time and xid (newest first). */
export interface TransactionCursor {
  issued_at: Date
  xid: string
}

const MAX_CURSOR_LENGTH = 512
const MAX_DATE_MS = 8_640_000_000_000_000

/** An opaque base64url cursor; clients pass it back unchanged. */
export function encodeCursor (cursor: TransactionCursor): string {
  return Buffer.from(JSON.stringify([cursor.issued_at.getTime(), cursor.xid])).toString('base64url')
}

/** The cursor, or undefined for anything this service did not produce. */
export function decodeCursor (text: string): TransactionCursor | undefined {
  if (text.length === 0 || text.length > MAX_CURSOR_LENGTH || !/^[A-Za-z0-9_-]+$/.test(text)) return undefined
  let parsed: unknown
  try {
    parsed = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'))
  } catch {
    return undefined
  }
  if (!Array.isArray(parsed) || parsed.length !== 2) return undefined
  const [time, xid] = parsed as [unknown, unknown]
  // Beyond ±8.64e15 ms a Date is invalid, which no store can compare against.
  if (typeof time !== 'number' || !Number.isSafeInteger(time) || time < 0 || time > MAX_DATE_MS || !isValidXid(xid)) return undefined
  return { issued_at: new Date(time), xid }
}

export const DEFAULT_PAGE_LIMIT = 20
export const MAX_PAGE_LIMIT = 100

/** A `limit` query value (already matched against ^[0-9]{1,3}$) as 1..100, or undefined. */
/** A transaction is active until its token expires. */
export function transactionStatus (expiresAt: Date, nowMs: number): 'active' | 'expired' {
  return expiresAt.getTime() > nowMs ? 'active' : 'expired'
}
