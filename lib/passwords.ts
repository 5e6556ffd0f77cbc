import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto'
import type { ScryptOptions } from 'node:crypto'

/** Usernames: lower-cased NFKC, 3..64 characters of [a-z0-9._-] (contract §4). */
const USERNAME = /^[a-z0-9._-]{3,64}$/
const PASSWORD_MIN = 8
const PASSWORD_MAX = 128

/** scrypt cost (N = 2^15, r = 8, p = 1: 32 MiB, OWASP's floor); recorded with each hash so it can rise later. */
export const SCRYPT_PARAMS = { ln: 15, r: 8, p: 1 } as const
const KEY_BYTES = 32
const SALT_BYTES = 16
const HASH_FORMAT = /^\$scrypt\$ln=(\d{1,2}),r=(\d{1,2}),p=(\d{1,2})\$([A-Za-z0-9_-]{16,64})\$([A-Za-z0-9_-]{32,128})$/

/** The normalised username, or undefined when it is not an acceptable one. */
export function normalizeUsername (input: string): string | undefined {
  const normalized = input.normalize('NFKC').toLowerCase()
  return USERNAME.test(normalized) ? normalized : undefined
}

/** The NFKC password, or undefined when it is outside 8..128 characters or holds control characters. */
export function normalizePassword (input: string): string | undefined {
  const normalized = input.normalize('NFKC')
  const length = [...normalized].length
  // eslint-disable-next-line no-control-regex
  if (length < PASSWORD_MIN || length > PASSWORD_MAX || /[\u0000-\u001f\u007f]/.test(normalized)) return undefined
  return normalized
}

function scryptAsync (password: string, salt: Buffer, ln: number, r: number, p: number): Promise<Buffer> {
  const N = 2 ** ln
  const options: ScryptOptions = { N, r, p, maxmem: 256 * N * r }
  return new Promise((resolve, reject) => {
    scrypt(password, salt, KEY_BYTES, options, (error, key) => { if (error === null) resolve(key); else reject(error) })
  })
}

/** A PHC-style string: `$scrypt$ln=15,r=8,p=1$<salt>$<hash>` (base64url). */
export async function hashPassword (password: string, params: { ln: number, r: number, p: number } = SCRYPT_PARAMS): Promise<string> {
  const salt = randomBytes(SALT_BYTES)
  const key = await scryptAsync(password, salt, params.ln, params.r, params.p)
  return `$scrypt$ln=${params.ln},r=${params.r},p=${params.p}$${salt.toString('base64url')}$${key.toString('base64url')}`
}

/** Compares in constant time; a malformed or out-of-range hash never matches. */
export async function verifyPassword (password: string, encoded: string): Promise<boolean> {
  const match = HASH_FORMAT.exec(encoded)
  if (match === null) return false
  const [ln, r, p] = [Number(match[1]), Number(match[2]), Number(match[3])]
  if (ln < 10 || ln > 20 || r < 1 || r > 32 || p < 1 || p > 16) return false
  const expected = Buffer.from(match[5] as string, 'base64url')
  const actual = await scryptAsync(password, Buffer.from(match[4] as string, 'base64url'), ln, r, p)
  return actual.length === expected.length && timingSafeEqual(actual, expected)
}

const dummies = new Map<number, Promise<string>>()

/** A hash of a random password at this cost, verified against for unknown users so both answers cost one scrypt. */
export function dummyPasswordHash (ln: number = SCRYPT_PARAMS.ln): Promise<string> {
  let dummy = dummies.get(ln)
  if (dummy === undefined) {
    dummy = hashPassword(randomBytes(24).toString('base64url'), { ...SCRYPT_PARAMS, ln })
    dummies.set(ln, dummy)
  }
  return dummy
}
