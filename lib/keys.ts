import { createPrivateKey, createPublicKey, generateKeyPairSync, hash, randomBytes } from 'node:crypto'
import type { KeyObject } from 'node:crypto'
import { readFileSync } from 'node:fs'

/** The signing algorithms the service supports (JWT_ALGORITHM). */
export type JwtAlgorithm = 'HS256' | 'ES256' | 'EdDSA'

/** A key as fast-jwt takes it: the HS256 secret bytes, or a PEM string. */
export type KeyMaterial = Buffer | string

export interface RingKey {
  kid: string
  alg: JwtAlgorithm
  /** What signs (HS secret or private PEM); undefined for verify-only keys. */
  privateKey?: KeyMaterial
  /** What verifies (HS secret or public PEM). */
  publicKey: KeyMaterial
  /** Public JWK published at /.well-known/jwks.json; undefined for symmetric keys. */
  publicJwk?: PublicJwk
}

/** The public members a JWKS may publish (contract §2): never `d`, never a symmetric `k`. */
export interface PublicJwk {
  kty: 'EC' | 'OKP'
  crv: 'P-256' | 'Ed25519'
  x: string
  y?: string
  kid: string
  alg: 'ES256' | 'EdDSA'
  use: 'sig'
}

/**
 * The keys that sign and verify access tokens. The first key signs; every key verifies, so a
 * rotated-out key keeps its tokens valid until they expire. Lookups go through a Map, never a
 * plain object, so hostile kids such as "__proto__" find nothing.
 */
export interface KeyRing {
  algorithm: JwtAlgorithm
  signing: RingKey & { privateKey: KeyMaterial }
  byKid: Map<string, RingKey>
  /** Public members of the asymmetric verification keys. */
  jwks: PublicJwk[]
}

/** A key file or key set that cannot be used; the message names the file position, never key material. */
export class KeyRingError extends Error {
  constructor (message: string) {
    super(message)
    this.name = 'KeyRingError'
  }
}

const KTY: Record<JwtAlgorithm, { kty: string, crv?: string }> = {
  HS256: { kty: 'oct' },
  ES256: { kty: 'EC', crv: 'P-256' },
  EdDSA: { kty: 'OKP', crv: 'Ed25519' }
}
const KID = /^[A-Za-z0-9._:-]{1,128}$/
const MIN_HMAC_BYTES = 32

export function hmacKeyRing (secret: Buffer): KeyRing {
  const kid = `hs-${hash('sha256', secret, 'base64url').slice(0, 16)}`
  const key: RingKey & { privateKey: KeyMaterial } = { kid, alg: 'HS256', privateKey: secret, publicKey: secret }
  return { algorithm: 'HS256', signing: key, byKid: new Map([[kid, key]]), jwks: [] }
}

/**
 * Builds a ring from a JWKS: every key must carry a unique kid and the configured alg; the first
 * key signs and therefore needs its private part, later keys may be public only (verify-only).
 */
export function keyRingFromJwks (algorithm: JwtAlgorithm, jwks: unknown, source = 'the key set'): KeyRing {
  const keys = (jwks !== null && typeof jwks === 'object' && !Array.isArray(jwks)) ? (jwks as { keys?: unknown }).keys : undefined
  if (!Array.isArray(keys) || keys.length === 0) throw new KeyRingError(`${source}: must be a JWKS object {"keys": [...]} with at least one key`)
  const byKid = new Map<string, RingKey>()
  const ordered: RingKey[] = []
  keys.forEach((jwk: unknown, index) => {
    const key = ringKey(algorithm, jwk, `${source}: keys[${index}]`, index === 0)
    if (byKid.has(key.kid)) throw new KeyRingError(`${source}: keys[${index}]: kid "${key.kid}" appears more than once`)
    byKid.set(key.kid, key)
    ordered.push(key)
  })
  const signing = ordered[0] as RingKey & { privateKey: KeyMaterial }
  const published = ordered.flatMap((key) => key.publicJwk === undefined ? [] : [key.publicJwk])
  return { algorithm, signing, byKid, jwks: published }
}

function ringKey (algorithm: JwtAlgorithm, jwk: unknown, where: string, mustSign: boolean): RingKey {
  if (jwk === null || typeof jwk !== 'object' || Array.isArray(jwk)) throw new KeyRingError(`${where}: is not a JWK object`)
  const { kid, alg, kty, crv, use, d, k } = jwk as Record<string, unknown>
  if (typeof kid !== 'string' || !KID.test(kid)) throw new KeyRingError(`${where}: kid must be 1..128 characters of [A-Za-z0-9._:-]`)
  if (alg !== algorithm) throw new KeyRingError(`${where} (kid ${kid}): alg must be ${algorithm} (JWT_ALGORITHM)`)
  const expected = KTY[algorithm]
  if (kty !== expected.kty || (expected.crv !== undefined && crv !== expected.crv)) {
    throw new KeyRingError(`${where} (kid ${kid}): ${algorithm} needs kty ${expected.kty}${expected.crv === undefined ? '' : ` and crv ${expected.crv}`}`)
  }
  if (use !== undefined && use !== 'sig') throw new KeyRingError(`${where} (kid ${kid}): use must be "sig"`)

  if (algorithm === 'HS256') {
    const secret = typeof k === 'string' && /^[A-Za-z0-9_-]+$/.test(k) ? Buffer.from(k, 'base64url') : undefined
    if (secret === undefined || secret.length < MIN_HMAC_BYTES) throw new KeyRingError(`${where} (kid ${kid}): k must be base64url of at least ${MIN_HMAC_BYTES} bytes`)
    return { kid, alg: algorithm, privateKey: secret, publicKey: secret }
  }

  const isPrivate = d !== undefined
  if (mustSign && !isPrivate) throw new KeyRingError(`${where} (kid ${kid}): the first key signs, so it must hold its private part (d)`)
  let publicKey: KeyObject
  let privateKey: KeyObject | undefined
  try {
    const material = Object.fromEntries(Object.entries(jwk).filter(([name]) => ['kty', 'crv', 'x', 'y', 'd'].includes(name)))
    if (isPrivate) {
      privateKey = createPrivateKey({ key: material as never, format: 'jwk' })
      publicKey = createPublicKey(privateKey)
    } else {
      publicKey = createPublicKey({ key: material as never, format: 'jwk' })
    }
  } catch {
    throw new KeyRingError(`${where} (kid ${kid}): the key material is not a valid ${expected.kty} ${expected.crv ?? ''} key`)
  }
  const exported = publicKey.export({ format: 'jwk' }) as { kty: 'EC' | 'OKP', crv: 'P-256' | 'Ed25519', x: string, y?: string }
  const publicJwk: PublicJwk = {
    kty: exported.kty,
    crv: exported.crv,
    x: exported.x,
    ...(exported.y === undefined ? {} : { y: exported.y }),
    kid,
    alg: algorithm,
    use: 'sig'
  }
  return {
    kid,
    alg: algorithm,
    ...(privateKey === undefined ? {} : { privateKey: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string }),
    publicKey: publicKey.export({ type: 'spki', format: 'pem' }) as string,
    publicJwk
  }
}

/** Reads and checks JWT_KEYS_FILE; every failure is a KeyRingError naming the file. */
export function loadKeyRingFile (algorithm: JwtAlgorithm, file: string): KeyRing {
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch {
    throw new KeyRingError(`JWT_KEYS_FILE ${file}: cannot be read`)
  }
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch {
    throw new KeyRingError(`JWT_KEYS_FILE ${file}: is not valid JSON`)
  }
  return keyRingFromJwks(algorithm, parsed, `JWT_KEYS_FILE ${file}`)
}

/** A fresh kid: the date makes rotations easy to read, the random part keeps kids unique. */
export function newKid (now = new Date()): string {
  return `${now.toISOString().slice(0, 10)}-${randomBytes(6).toString('base64url')}`
}

/** A new private JWK (with kid, alg and use) for the algorithm. */
export function generatePrivateJwk (algorithm: JwtAlgorithm, kid = newKid()): Record<string, string> {
  if (algorithm === 'HS256') {
    return { kty: 'oct', k: randomBytes(MIN_HMAC_BYTES).toString('base64url'), kid, alg: algorithm, use: 'sig' }
  }
  const { privateKey } = algorithm === 'ES256'
    ? generateKeyPairSync('ec', { namedCurve: 'P-256' })
    : generateKeyPairSync('ed25519')
  return { ...(privateKey.export({ format: 'jwk' }) as Record<string, string>), kid, alg: algorithm, use: 'sig' }
}

/** The rotated key set: a new key first (it signs from the next deploy) or last (published, verify-only). */
export function rotateJwks (algorithm: JwtAlgorithm, current: unknown, position: 'first' | 'last' = 'first'): { keys: unknown[] } {
  let existing: unknown[] = []
  const kids = new Set<string>()
  if (current !== undefined) {
    const ring = keyRingFromJwks(algorithm, current, 'the current key set')
    existing = (current as { keys: unknown[] }).keys
    for (const kid of ring.byKid.keys()) kids.add(kid)
  }
  let kid = newKid()
  while (kids.has(kid)) kid = newKid()
  const fresh = generatePrivateJwk(algorithm, kid)
  return { keys: position === 'last' ? [...existing, fresh] : [fresh, ...existing] }
}
