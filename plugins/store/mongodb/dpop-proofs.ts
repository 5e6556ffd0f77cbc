import type { Db } from 'mongodb'
import type { ReplayCache } from '../../../lib/store.js'
import { expiringKeys } from './expiring-keys.js'

/** DPoP proofs seen (by jti and key thumbprint) in `dpop_proofs`, kept until the proof could no longer be accepted. */
export function createMongoReplayCache (db: Db): ReplayCache {
  const seen = expiringKeys(db, 'dpop_proofs', 'key')
  return {
    use: async (key, expiresAt) => await seen.add(key, expiresAt)
  }
}
