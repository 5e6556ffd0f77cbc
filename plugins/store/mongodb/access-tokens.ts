import type { Db } from 'mongodb'
import type { AccessTokenRecord, AccessTokenRepository } from '../../../lib/store.js'
import { storeKey } from '../../../lib/store.js'
import { guard, withoutNull } from './guard.js'

/** Issued-token records in `access_tokens`, unique by jti and removed by the TTL index once expired. */
export function createMongoAccessTokens (db: Db): AccessTokenRepository {
  const accessTokens = db.collection<AccessTokenRecord>('access_tokens')
  return {
    async record (token) {
      await guard(() => accessTokens.insertOne({ ...token, jti: storeKey(token.jti) }))
    },
    async find (jti) {
      const record = await guard(() => accessTokens.findOne(
        { jti: storeKey(jti), expires_at: { $gt: new Date() } },
        { projection: { _id: 0 } }
      ))
      return record === null ? null : withoutNull(record)
    }
  }
}
