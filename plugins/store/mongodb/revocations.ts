import type { Db } from 'mongodb'
import { guard } from './guard.js'
import type { RevocationRepository } from '../../../lib/store.js'
import { DuplicateKeyError, storeKey } from '../../../lib/store.js'

interface RevocationDocument {
  jti: string
  expires_at: Date
}

export function createMongoRevocations (db: Db): RevocationRepository {
  const revocations = db.collection<RevocationDocument>('revocations')
  return {
    async revoke (jti, expiresAt) {
      try {
        await guard(() => revocations.updateOne(
          { jti: storeKey(jti) },
          { $setOnInsert: { jti, expires_at: expiresAt } },
          { upsert: true }
        ))
      } catch (error) {
        // Two concurrent revocations of one jti: the other one inserted it, which is the goal.
        if (!(error instanceof DuplicateKeyError)) throw error
      }
    },
    async isRevoked (jti) {
      const found = await guard(() => revocations.findOne(
        { jti: storeKey(jti), expires_at: { $gt: new Date() } },
        { projection: { _id: 1 } }
      ))
      return found !== null
    }
  }
}
