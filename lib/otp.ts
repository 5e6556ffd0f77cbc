import { createHmac, randomInt, timingSafeEqual } from 'node:crypto'

/** A one-time code of exactly `length` ASCII digits from the CSPRNG; leading zeros are as likely as any digit. */
export function generateCode (length: number): string {
  let code = ''
  for (let i = 0; i < length; i++) code += String(randomInt(10))
  return code
}

/**
 * The stored form of a code: HMAC-SHA256 keyed by OTP_PEPPER over the verification's own id and
 * the code, so a leaked store reveals no code and a hash cannot be replayed on another verification.
 */
export function hashCode (pepper: string, verificationId: string, code: string): string {
  return createHmac('sha256', pepper).update(`${verificationId}:${code}`).digest('hex')
}

/** Constant-time comparison of two hex hashes (equal length by construction). */
export function hashesMatch (expected: string, actual: string): boolean {
  const a = Buffer.from(expected, 'hex')
  const b = Buffer.from(actual, 'hex')
  return a.length === b.length && a.length > 0 && timingSafeEqual(a, b)
}

/** Exactly `length` ASCII digits, as a string: numbers, arrays, objects and Unicode digits are refused. */
export function isWellFormedCode (code: unknown, length: number): code is string {
  return typeof code === 'string' && code.length === length && /^[0-9]+$/.test(code)
}

/** AUTH_MESSAGE with {code} and {org} filled in; every occurrence is replaced. */
export function renderAuthMessage (template: string, code: string, org: string): string {
  return template.replaceAll('{org}', org).replaceAll('{code}', code)
}
