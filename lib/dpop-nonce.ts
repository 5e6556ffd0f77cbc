import { createHmac, hkdfSync, timingSafeEqual } from 'node:crypto'

/** How long one nonce generation lasts; a nonce is accepted during its own window and the next. */
export const DPOP_NONCE_WINDOW_SECONDS = 60

/**
 * Server nonces for DPoP proofs (RFC 9449 section 8), stateless: a nonce is its time window and an
 * HMAC of it, so every instance sharing the key issues and accepts the same nonces without a store
 * round trip. Accepted for 60 to 120 s; a proof still has to be unused (the replay cache) and recent (iat).
 */
export class DpopNonces {
  private readonly key: Buffer

  /** keyMaterial: a secret all instances share; a nonce key is derived from it for this use alone. */
  constructor (keyMaterial: string, private readonly nowMs: () => number = Date.now) {
    this.key = Buffer.from(hkdfSync('sha256', keyMaterial, '', 'tokenmint dpop-nonce v1', 32))
  }

  private window (): number {
    return Math.floor(this.nowMs() / 1000 / DPOP_NONCE_WINDOW_SECONDS)
  }

  private mac (window: number): Buffer {
    return createHmac('sha256', this.key).update(`dpop-nonce.${window}`).digest()
  }

  /** A nonce for the current window. */
  issue (): string {
    const window = this.window()
    return `${window.toString(36)}.${this.mac(window).toString('base64url')}`
  }

  /** Whether a proof's nonce claim is one of ours from this window or the previous one. */
  isFresh (nonce: unknown): boolean {
    if (typeof nonce !== 'string' || nonce.length > 64) return false
    const match = /^([0-9a-z]{1,12})\.([A-Za-z0-9_-]{43})$/.exec(nonce)
    if (match === null) return false
    const window = Number.parseInt(match[1] ?? '', 36)
    const current = this.window()
    if (window !== current && window !== current - 1) return false
    return timingSafeEqual(Buffer.from(match[2] ?? '', 'base64url'), this.mac(window))
  }
}
