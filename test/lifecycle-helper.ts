import { mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { calculateJwkThumbprint, exportJWK, generateKeyPair, SignJWT } from 'jose'
import type { CryptoKey, JWK } from 'jose'
import type { Test } from 'tap'
import { accessTokenHash } from '../lib/dpop.js'
import { generatePrivateJwk } from '../lib/keys.js'
import type { JwtAlgorithm } from '../lib/keys.js'

/** Writes a JWKS into the test's fixture directory (kept across calls, removed after the test) and returns its path. */
export function writeKeysFile (t: Test, keys: unknown[], name = 'jwks.json'): string {
  // t.testdir() would wipe the directory on every call; files of earlier calls must survive.
  const dir = t.testdirName
  mkdirSync(dir, { recursive: true })
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const file = join(dir, name)
  writeFileSync(file, JSON.stringify({ keys }))
  return file
}

export function privateJwk (algorithm: JwtAlgorithm, kid: string): Record<string, string> {
  return generatePrivateJwk(algorithm, kid)
}

export interface DeviceKey {
  alg: 'ES256' | 'EdDSA'
  privateKey: CryptoKey
  publicJwk: JWK
  jkt: string
}

export async function deviceKey (alg: 'ES256' | 'EdDSA' = 'ES256'): Promise<DeviceKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true })
  const publicJwk = await exportJWK(publicKey)
  return { alg, privateKey, publicJwk, jkt: await calculateJwkThumbprint(publicJwk, 'sha256') }
}

export interface ProofOptions {
  htm?: string
  htu?: string
  token?: string
  iat?: number
  jti?: string
  typ?: string
  /** Another key's public JWK in the header (signature then does not match it). */
  headerJwk?: JWK
  omit?: Array<'jti' | 'htm' | 'htu' | 'iat' | 'ath'>
}

/** A DPoP proof (RFC 9449 §4.2) for a request, with knobs to break each part. */
export async function dpopProof (key: DeviceKey, options: ProofOptions = {}): Promise<string> {
  const claims: Record<string, unknown> = {
    jti: options.jti ?? crypto.randomUUID(),
    htm: options.htm ?? 'GET',
    htu: options.htu ?? 'http://localhost/v1/me',
    iat: options.iat ?? Math.floor(Date.now() / 1000),
    ...(options.token === undefined ? {} : { ath: accessTokenHash(options.token) })
  }
  for (const name of options.omit ?? []) delete claims[name]
  return await new SignJWT(claims)
    .setProtectedHeader({ alg: key.alg, typ: options.typ ?? 'dpop+jwt', jwk: options.headerJwk ?? key.publicJwk })
    .sign(key.privateKey)
}
