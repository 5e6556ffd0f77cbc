import { createHash } from 'node:crypto'
import type { JwtAlgorithm } from './config.js'

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
  publicJwk?: Record<string, unknown>
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
  jwks: Array<Record<string, unknown>>
}

export function hmacKeyRing (secret: Buffer): KeyRing {
  const kid = `hs-${createHash('sha256').update(secret).digest('base64url').slice(0, 16)}`
  const key: RingKey & { privateKey: KeyMaterial } = { kid, alg: 'HS256', privateKey: secret, publicKey: secret }
  return { algorithm: 'HS256', signing: key, byKid: new Map([[kid, key]]), jwks: [] }
}
