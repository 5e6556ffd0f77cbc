import { dropOldest } from './capped.js'

/** Claims of an access token this service issues (contract §3). */
export interface AccessClaims {
  iss: string
  aud: string
  sub: string
  iat: number
  exp: number
  jti: string
  instance_id?: string
  cnf?: { jkt: string }
  amr?: string[]
  /** Login tokens: the user's id at issue time (a re-created user gets a new one). */
  uid?: string
  /** Tokens of a refresh session: its family id; ending the session revokes them too. */
  sid?: string
  [claim: string]: unknown
}

/** The only JOSE header members our own tokens carry; anything else (jku, jwk, x5u, crit, b64) is refused. */
const ALLOWED_HEADER_MEMBERS = new Set(['alg', 'typ', 'kid'])
export const MAX_TOKEN_LENGTH = 4096

/**
 * Top-level member names of a JSON object text, or undefined when the text is not an object.
 * Used to refuse duplicate members, which parsers disagree on (RFC 7515 §5.2 allows refusing).
 */
export function topLevelMembers (text: string): string[] | undefined {
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    return undefined
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return undefined
  const names: string[] = []
  let depth = 0
  let expectingName = false
  for (let i = 0; i < text.length; i++) {
    const char = text[i]
    if (char === '"') {
      let end = i + 1
      while (end < text.length && text[end] !== '"') end += text[end] === '\\' ? 2 : 1
      if (depth === 1 && expectingName) names.push(JSON.parse(text.slice(i, end + 1)) as string)
      i = end
      expectingName = false
    } else if (char === '{' || char === '[') {
      depth++
      expectingName = char === '{' && depth === 1
    } else if (char === '}' || char === ']') {
      depth--
    } else if (char === ',' && depth === 1) {
      expectingName = true
    }
  }
  return names
}

function decodeSegment (segment: string): Record<string, unknown> | string {
  const text = Buffer.from(segment, 'base64url').toString('utf8')
  const names = topLevelMembers(text)
  if (names === undefined) return 'is not a JSON object'
  if (new Set(names).size !== names.length) return 'repeats a member'
  return JSON.parse(text) as Record<string, unknown>
}

/** Why a token is refused before any cryptography runs, or undefined when its shape is acceptable. */
export function headerDefect (token: string): string | undefined {
  if (token.length > MAX_TOKEN_LENGTH) return 'The token is longer than 4096 characters.'
  const parts = token.split('.')
  if (parts.length !== 3 || parts.some((part) => !/^[A-Za-z0-9_-]+$/.test(part))) {
    return 'The token is not a compact JWS.'
  }
  const header = decodeSegment(parts[0] as string)
  if (typeof header === 'string') return `The token header ${header}.`
  const payload = decodeSegment(parts[1] as string)
  if (typeof payload === 'string') return `The token payload ${payload}.`
  for (const name of ['iat', 'exp', 'nbf']) {
    const value = payload[name]
    if (value !== undefined && (!Number.isSafeInteger(value) || (value as number) < 0)) return `The ${name} claim must be a non-negative integer.`
  }
  for (const member of Object.keys(header)) {
    if (!ALLOWED_HEADER_MEMBERS.has(member)) return `The token header member "${member.slice(0, 32)}" is not accepted.`
  }
  const { kid } = header as { kid?: unknown }
  if (typeof kid !== 'string') return 'The token has no key id.'
  return undefined
}

/**
 * headerDefect with a bounded memo of verdicts by token (a pure function of the token), sized like
 * the verifier's own cache: an app presents the same token on every call until it expires.
 */
export function memoizedHeaderDefect (size: number, verdicts = new Map<string, string | undefined>()): (token: string) => string | undefined {
  return (token) => {
    // Refused by length before the cache: a remembered verdict must never cost more than MAX_TOKEN_LENGTH.
    if (token.length > MAX_TOKEN_LENGTH) return headerDefect(token)
    if (verdicts.has(token)) return verdicts.get(token)
    const verdict = headerDefect(token)
    verdicts.set(token, verdict)
    dropOldest(verdicts, size)
    return verdict
  }
}

/** Structural checks fast-jwt leaves to the caller: types, lifetime bound, issue time not in the future. */
export function claimsDefect (claims: Record<string, unknown>, maxLifetimeSeconds: number, nowSeconds: number, leewaySeconds: number): string | undefined {
  const { sub, jti, iat, exp, instance_id: instanceId, amr } = claims
  if (typeof sub !== 'string' || sub.length === 0) return 'The sub claim is missing or not a string.'
  if (typeof jti !== 'string' || jti.length === 0 || jti.length > 128) return 'The jti claim is missing or malformed.'
  if (!Number.isSafeInteger(iat) || !Number.isSafeInteger(exp)) return 'The iat and exp claims must be integers.'
  if ((exp as number) - (iat as number) > maxLifetimeSeconds) return 'The token lives longer than this service allows.'
  if ((iat as number) > nowSeconds + leewaySeconds) return 'The token was issued in the future.'
  if (instanceId !== undefined && (typeof instanceId !== 'string' || instanceId.length === 0)) return 'The instance_id claim is malformed.'
  if (amr !== undefined && (!Array.isArray(amr) || !amr.every((m) => typeof m === 'string'))) return 'The amr claim is malformed.'
  const { cnf, uid } = claims
  if (cnf !== undefined && (cnf === null || typeof cnf !== 'object' || typeof (cnf as { jkt?: unknown }).jkt !== 'string')) return 'The cnf claim is malformed.'
  if (usernameOfSubject(sub) !== undefined && (typeof uid !== 'string' || uid.length === 0)) return 'A user token needs its uid claim.'
  if (claims.sid !== undefined && (typeof claims.sid !== 'string' || claims.sid.length === 0 || claims.sid.length > 64)) return 'The sid claim is malformed.'
  return undefined
}

const USER_SUBJECT_PREFIX = 'user:'

/** The sub claim of a token issued at login. */
export function userSubject (username: string): string {
  return `${USER_SUBJECT_PREFIX}${username}`
}

/** The username behind a login token's sub, or undefined for other subjects. */
export function usernameOfSubject (sub: string): string | undefined {
  return sub.startsWith(USER_SUBJECT_PREFIX) ? sub.slice(USER_SUBJECT_PREFIX.length) : undefined
}

/** `Authorization: Bearer <token>` or `DPoP <token>` (RFC 6750, RFC 9449 §7.1; scheme names are case-insensitive). */
const AUTHORIZATION = /^(Bearer|DPoP) +(\S+) *$/i

/** The scheme and token of an Authorization header, or undefined when it is neither Bearer nor DPoP. */
export function parseAuthorization (header: string): { dpop: boolean, token: string } | undefined {
  const match = AUTHORIZATION.exec(header)
  if (match?.[1] === undefined || match[2] === undefined) return undefined
  return { dpop: match[1].toLowerCase() === 'dpop', token: match[2] }
}
