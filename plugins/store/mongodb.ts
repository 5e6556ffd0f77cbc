import { MongoError, MongoServerError } from 'mongodb'
import type { Collection, Db, MongoClient } from 'mongodb'
import type { AccessTokenRecord, Store } from './types.js'
import { DuplicateKeyError, StoreUnavailableError, storeKey } from './types.js'
import { createMongoTransactions } from './mongodb/transactions.js'
import { createMongoVerifications } from './mongodb/verifications.js'
import { createMongoUsers } from './mongodb/users.js'
import { createMongoRevocations } from './mongodb/revocations.js'
import { createMongoReplayCache } from './mongodb/dpop-proofs.js'
import { createMongoLoginAttempts } from './mongodb/login-attempts.js'

export interface MongoStoreOptions {
  client: MongoClient
  db: Db
  /** Whether close() also closes the client (false when @fastify/mongodb owns it). */
  ownsClient?: boolean
}

export type MongoStore = Store & {
  /** Creates unique and TTL indexes; safe to call again. */
  ensureIndexes (): Promise<void>
}

/** Maps driver errors to the store's own: outages become StoreUnavailableError, E11000 DuplicateKeyError. */
export async function guard<T> (operation: () => Promise<T>): Promise<T> {
  try {
    return await operation()
  } catch (error) {
    if (error instanceof MongoServerError && error.code === 11000) throw new DuplicateKeyError()
    if (error instanceof MongoError && !(error instanceof MongoServerError)) throw new StoreUnavailableError()
    throw error
  }
}

export function createMongoStore ({ client, db, ownsClient = false }: MongoStoreOptions): MongoStore {
  const accessTokens: Collection<AccessTokenRecord> = db.collection('access_tokens')
  const transactions = createMongoTransactions(db)
  const verifications = createMongoVerifications(db)
  const users = createMongoUsers(db)
  const revocations = createMongoRevocations(db)
  const dpopProofs = createMongoReplayCache(db)
  const loginAttempts = createMongoLoginAttempts(db)

  return {
    kind: 'mongodb',
    async ensureIndexes () {
      await guard(async () => {
        await accessTokens.createIndexes([
          { key: { jti: 1 }, name: 'jti_unique', unique: true },
          { key: { expires_at: 1 }, name: 'expires_at_ttl', expireAfterSeconds: 0 }
        ])
        await transactions.ensureIndexes()
        for (const repository of [users, revocations, dpopProofs, loginAttempts]) await repository.ensureIndexes()
      })
      await verifications.ensureIndexes()
    },
    async ping () {
      await guard(() => db.command({ ping: 1 }))
    },
    async close () {
      if (ownsClient) await client.close()
    },
    accessTokens: {
      async record (token) {
        await guard(() => accessTokens.insertOne({ ...token, jti: storeKey(token.jti) }))
      },
      async find (jti) {
        const record = await guard(() => accessTokens.findOne(
          { jti: storeKey(jti), expires_at: { $gt: new Date() } },
          { projection: { _id: 0 } }
        ))
        return record === null ? null : withoutUndefined(record)
      }
    },
    transactions: transactions.repository,
    verifications,
    users,
    revocations,
    dpopProofs,
    loginAttempts
  }
}

/** MongoDB returns absent fields as missing; the memory store returns the same shape. */
function withoutUndefined<T extends object> (record: T): T {
  return Object.fromEntries(Object.entries(record).filter(([, v]) => v !== undefined && v !== null)) as T
}
