import { hash } from 'node:crypto'
import { calculateJwkThumbprint, EmbeddedJWK, jwtVerify } from 'jose'
import type { JWK } from 'jose'
import { Problem } from './problem.js'

/** Algorithms a DPoP proof may use (RFC 9449 §4.2); asymmetric only. */
/** Ed25519 is RFC 9864's fully specified name for EdDSA over Ed25519 (what the dpop and jose libraries send). */
export const DPOP_ALGORITHMS = ['ES256', 'EdDSA', 'Ed25519'] as const
/** How far a proof's iat may be from now, either way. */
export const DPOP_MAX_SKEW_SECONDS = 60
const MAX_PROOF_LENGTH = 4096

export class DpopProofError extends Error {
  constructor (message: string) {
    super(message)
    this.name = 'DpopProofError'
  }
}

/** The proof lacks a fresh server nonce (RFC 9449 section 8): the client retries with the one it is given. */
export class DpopNonceError extends DpopProofError {
  constructor (message: string) {
    super(message)
    this.name = 'DpopNonceError'
  }
}

export interface DpopRequest {
  /** The DPoP header as received (several headers arrive as an array and are refused). */
  proof: string | string[] | undefined
  method: string
  /** The absolute request URL; query and fragment are ignored. */
  url: string
  /** The access token the proof goes with (its ath); none at the token endpoint (RFC 9449 section 5). */
  accessToken?: string
  /** cnf.jkt of the access token; none when the caller only wants to learn the proof's key. */
  jkt?: string
  nowSeconds: number
  /** With server nonces on: whether the proof's nonce claim is fresh. */
  nonceIsFresh?: (nonce: unknown) => boolean
}

export interface VerifiedProof {
  /** Scoped by key so two devices never collide in the replay cache. */
  replayKey: string
  /** Until when a replay must be refused: after that the iat check refuses it anyway. */
  replayUntil: Date
  /** RFC 7638 thumbprint of the key that signed the proof. */
  jkt: string
}

/** base64url(SHA-256(access token)): the proof's ath claim (RFC 9449 §4.2). */
export function accessTokenHash (token: string): string {
  return hash('sha256', token, 'base64url')
}

/** scheme://host[:port]/path, normalised by WHATWG URL (case, default ports), without query and fragment. */
function comparableUrl (text: string): string | undefined {
  try {
    const url = new URL(text)
    return `${url.origin}${url.pathname}`
  } catch {
    return undefined
  }
}

/**
 * Checks a DPoP proof (RFC 9449 §4.3) against the request and the token's key binding. The
 * proof's own embedded key is the only key used; nothing is ever fetched. The caller enforces
 * one-time use of the returned replay key.
 */
export async function verifyDpopProof (request: DpopRequest): Promise<VerifiedProof> {
  const { proof } = request
  if (proof === undefined || proof === '') throw new DpopProofError('A DPoP proof header is required for this token.')
  if (typeof proof !== 'string') throw new DpopProofError('Send exactly one DPoP header.')
  if (proof.length > MAX_PROOF_LENGTH) throw new DpopProofError('The DPoP proof is too long.')

  let payload: Record<string, unknown>
  let jwk: JWK
  try {
    const verified = await jwtVerify(proof, EmbeddedJWK, { typ: 'dpop+jwt', algorithms: [...DPOP_ALGORITHMS] })
    payload = verified.payload as Record<string, unknown>
    jwk = verified.protectedHeader.jwk as JWK
  } catch {
    throw new DpopProofError('The DPoP proof is not a valid dpop+jwt signed with its embedded public key.')
  }
  const jkt = await calculateJwkThumbprint(jwk, 'sha256')
  if (request.jkt !== undefined && jkt !== request.jkt) {
    throw new DpopProofError('The DPoP proof is signed by another key than the one this token is bound to.')
  }
  const { jti, htm, htu, iat, ath } = payload
  if (typeof jti !== 'string' || jti.length < 8 || jti.length > 256) throw new DpopProofError('The DPoP proof needs a unique jti.')
  if (htm !== request.method) throw new DpopProofError('The DPoP proof was made for another HTTP method.')
  const expected = comparableUrl(request.url)
  if (typeof htu !== 'string' || expected === undefined || comparableUrl(htu) !== expected) {
    throw new DpopProofError('The DPoP proof was made for another URL.')
  }
  if (typeof iat !== 'number' || !Number.isFinite(iat) || Math.abs(iat - request.nowSeconds) > DPOP_MAX_SKEW_SECONDS) {
    throw new DpopProofError('The DPoP proof is too old or from the future.')
  }
  if (request.accessToken === undefined ? ath !== undefined : ath !== accessTokenHash(request.accessToken)) {
    throw new DpopProofError(request.accessToken === undefined ? 'A DPoP proof without an access token carries no ath.' : 'The DPoP proof was made for another access token.')
  }
  // Last: a proof that is wrong in any other way is refused for that, not sent round for a nonce.
  if (request.nonceIsFresh !== undefined && !request.nonceIsFresh(payload.nonce)) {
    throw new DpopNonceError(payload.nonce === undefined ? 'This server requires a nonce in DPoP proofs: use the one in the DPoP-Nonce header.' : 'The DPoP proof\'s nonce is not current: use the one in the DPoP-Nonce header.')
  }
  return {
    jkt,
    replayKey: hash('sha256', `${jkt}.${jti}`, 'base64url'),
    replayUntil: new Date((Math.max(iat, request.nowSeconds) + DPOP_MAX_SKEW_SECONDS + 1) * 1000)
  }
}

/** 401 use_dpop_nonce (RFC 9449 section 9) with a fresh nonce to retry with. */
export function useDpopNonce (detail: string, nonce: string): Problem {
  return new Problem(401, 'use_dpop_nonce', detail, {
    headers: {
      'www-authenticate': `DPoP error="use_dpop_nonce", error_description="Resource server requires nonce in DPoP proof", algs="${DPOP_ALGORITHMS.join(' ')}"`,
      'dpop-nonce': nonce
    }
  })
}

/** 401 invalid_dpop_proof with the RFC 9449 §7.1 challenge naming the accepted algorithms. */
export function invalidDpopProof (detail: string): Problem {
  return new Problem(401, 'invalid_dpop_proof', detail, {
    headers: { 'www-authenticate': `DPoP error="invalid_dpop_proof", algs="${DPOP_ALGORITHMS.join(' ')}"` }
  })
}
