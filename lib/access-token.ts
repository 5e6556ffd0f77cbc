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
  [claim: string]: unknown
}

/** The only JOSE header members our own tokens carry; anything else (jku, jwk, x5u, crit, b64) is refused. */
const ALLOWED_HEADER_MEMBERS = new Set(['alg', 'typ', 'kid'])
export const MAX_TOKEN_LENGTH = 4096

/** Why a token is refused before any cryptography runs, or undefined when its shape is acceptable. */
export function headerDefect (token: string): string | undefined {
  if (token.length > MAX_TOKEN_LENGTH) return 'The token is longer than 4096 characters.'
  const parts = token.split('.')
  if (parts.length !== 3 || parts.some((part) => !/^[A-Za-z0-9_-]+$/.test(part))) {
    return 'The token is not a compact JWS.'
  }
  let header: unknown
  try {
    header = JSON.parse(Buffer.from(parts[0] as string, 'base64url').toString('utf8'))
  } catch {
    return 'The token header is not JSON.'
  }
  if (header === null || typeof header !== 'object' || Array.isArray(header)) return 'The token header is not an object.'
  for (const member of Object.keys(header)) {
    if (!ALLOWED_HEADER_MEMBERS.has(member)) return `The token header member "${member.slice(0, 32)}" is not accepted.`
  }
  const { kid } = header as { kid?: unknown }
  if (typeof kid !== 'string') return 'The token has no key id.'
  return undefined
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
