import { createHash, timingSafeEqual } from 'node:crypto'

export interface ApiKeyMatcher {
  /** The matching key's public id (a digest prefix), or undefined. Takes the same time for any input. */
  match (presented: string): string | undefined
}

const KEY_ID_LENGTH = 12

/** A key's public id: the first 12 hex digits of its SHA-256, safe to print and log. */
export function apiKeyId (key: string): string {
  return createHash('sha256').update(key).digest('hex').slice(0, KEY_ID_LENGTH)
}

/** Compares presented keys against every configured key in constant time (no early exit). */
export function apiKeyMatcher (keys: readonly string[]): ApiKeyMatcher {
  const digests = keys.map((key) => createHash('sha256').update(key).digest())
  return {
    match (presented) {
      const candidate = createHash('sha256').update(presented).digest()
      let found: Buffer | undefined
      for (const digest of digests) {
        if (timingSafeEqual(digest, candidate)) found = digest
      }
      return found === undefined ? undefined : found.toString('hex').slice(0, KEY_ID_LENGTH)
    }
  }
}
