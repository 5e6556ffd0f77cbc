import type { Db } from 'mongodb'
import type { Store } from '../../lib/store.js'
import { StoreUnavailableError } from '../../lib/store.js'
import { guard } from './mongodb/guard.js'
import { ensureIndexes, INDEX_PLANS } from './mongodb/indexes.js'
import type { IndexReport } from './mongodb/indexes.js'
import { createMongoTransactions } from './mongodb/transactions.js'
import { createMongoVerifications } from './mongodb/verifications.js'
import { createMongoUsers } from './mongodb/users.js'
import { createMongoRefreshTokens } from './mongodb/refresh-tokens.js'
import { createMongoWebhookDeliveries } from './mongodb/webhook-deliveries.js'
import { createMongoRevocations } from './mongodb/revocations.js'
import { createMongoReplayCache } from './mongodb/dpop-proofs.js'
import { createMongoLoginAttempts } from './mongodb/login-attempts.js'

export interface MongoStoreOptions {
  /** The database; its client belongs to the caller (the store plugin connects and closes it). */
  db: Db
}

export type MongoStore = Store & {
  /**
   * Creates every index, each on its own, and reports what is in place and what failed and why;
   * once all are in place the store is ready. Rejects with StoreUnavailableError on an outage.
   */
  ensureIndexes (): Promise<IndexReport>
  /** True once every index exists: until then ping() and the writes that rely on unique keys refuse. */
  readonly indexesReady: boolean
}

/**
 * The writes whose correctness rests on a unique index (no second user, xid, verification, revocation,
 * DPoP proof, login window or send log for one key). Without the index they would silently
 * duplicate, so they answer "unavailable" until every index is in place.
 */
const UNIQUE_WRITES = {
  transactions: ['record'],
  verifications: ['create', 'reserveRecipientSend'],
  users: ['create'],
  revocations: ['revoke'],
  dpopProofs: ['use'],
  loginAttempts: ['reserve'],
  refreshTokens: ['create'],
  webhookDeliveries: ['enqueue']
} as const

export function createMongoStore ({ db }: MongoStoreOptions): MongoStore {
  let ready = false
  const notReady = (): StoreUnavailableError => new StoreUnavailableError('MongoDB indexes are not in place yet')

  /** The repository with its unique-key writes refused until the indexes exist. */
  function gated<T extends object> (repository: T, writes: readonly string[]): T {
    const wrapped = { ...repository } as Record<string, unknown>
    for (const name of writes) {
      const write = (repository as Record<string, unknown>)[name] as (...args: unknown[]) => Promise<unknown>
      wrapped[name] = async (...args: unknown[]) => {
        if (!ready) throw notReady()
        return await write.apply(repository, args)
      }
    }
    return wrapped as T
  }

  return {
    kind: 'mongodb',
    get indexesReady () { return ready },
    async ensureIndexes () {
      const report = await ensureIndexes(db, INDEX_PLANS)
      ready = report.failures.length === 0
      return report
    },
    async ping () {
      await guard(() => db.command({ ping: 1 }))
      if (!ready) throw notReady()
    },
    async close () {},
    transactions: gated(createMongoTransactions(db), UNIQUE_WRITES.transactions),
    verifications: gated(createMongoVerifications(db), UNIQUE_WRITES.verifications),
    users: gated(createMongoUsers(db), UNIQUE_WRITES.users),
    revocations: gated(createMongoRevocations(db), UNIQUE_WRITES.revocations),
    dpopProofs: gated(createMongoReplayCache(db), UNIQUE_WRITES.dpopProofs),
    loginAttempts: gated(createMongoLoginAttempts(db), UNIQUE_WRITES.loginAttempts),
    refreshTokens: gated(createMongoRefreshTokens(db), UNIQUE_WRITES.refreshTokens),
    webhookDeliveries: gated(createMongoWebhookDeliveries(db), UNIQUE_WRITES.webhookDeliveries)
  }
}
