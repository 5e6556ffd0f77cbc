import type { Db } from 'mongodb'
import type { RevocationRepository } from '../../../lib/store.js'
import { expiringKeys } from './expiring-keys.js'

/** Revoked jtis in `revocations` until the token would have expired anyway. */
export function createMongoRevocations (db: Db): RevocationRepository {
  const revoked = expiringKeys(db, 'revocations', 'jti')
  return {
    async revoke (jti, expiresAt) {
      // A second revocation of a live jti finds it there, which is the goal.
      await revoked.add(jti, expiresAt)
    },
    isRevoked: async (...keys) => await revoked.isLive(...keys)
  }
}
