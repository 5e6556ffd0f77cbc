import type { Db } from 'mongodb'
import type { AccessTokenRepository } from '../../../lib/store.js'
import { DuplicateKeyError } from '../../../lib/store.js'
import { expiringKeys } from './expiring-keys.js'

/** Issued tokens in `access_tokens` (jti, subject, device, times), unique by jti and removed by the TTL index once expired. */
export function createMongoAccessTokens (db: Db): AccessTokenRepository {
  const issued = expiringKeys(db, 'access_tokens', 'jti')
  return {
    async record ({ jti, expires_at: expiresAt, ...fields }) {
      if (!await issued.add(jti, expiresAt, fields)) throw new DuplicateKeyError('jti already recorded')
    }
  }
}
