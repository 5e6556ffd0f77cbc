import type { Store } from '../../lib/store.js'
import { createMemoryTransactions } from './memory/transactions.js'
import { createMemoryVerifications } from './memory/verifications.js'
import { createMemoryUsers } from './memory/users.js'
import { createMemoryRevocations } from './memory/revocations.js'
import { createMemoryReplayCache } from './memory/dpop-proofs.js'
import { createMemoryLoginAttempts } from './memory/login-attempts.js'
import { createMemoryRefreshTokens } from './memory/refresh-tokens.js'
import { createMemoryWebhookDeliveries } from './memory/webhook-deliveries.js'

const SWEEP_INTERVAL_MS = 60_000
/** MEMORY_STORE_MAX_RECORDS' default: records of each growing kind kept at most. */
const DEFAULT_MAX_RECORDS = 5_000

/**
 * The embedded store: plain Maps with the same semantics as the MongoDB store (unique keys,
 * expiry, atomic updates). Data lives as long as the process; the kinds that grow with traffic
 * (verifications, App Verify transactions, refresh tokens, webhook deliveries) keep at most
 * `maxRecords` each, the oldest dropped first.
 */
export function createMemoryStore (now: () => number = Date.now, { maxRecords = DEFAULT_MAX_RECORDS }: { maxRecords?: number } = {}): Store {
  const verifications = createMemoryVerifications(maxRecords)
  const revocations = createMemoryRevocations(now)
  const dpopProofs = createMemoryReplayCache(now)
  const loginAttempts = createMemoryLoginAttempts(now)
  const refreshTokens = createMemoryRefreshTokens(now, maxRecords)
  const webhookDeliveries = createMemoryWebhookDeliveries(now, maxRecords)

  const sweep = (): void => {
    const time = now()
    verifications.sweep(time)
    for (const repository of [revocations, dpopProofs, loginAttempts, refreshTokens, webhookDeliveries]) repository.sweep()
  }
  const timer = setInterval(sweep, SWEEP_INTERVAL_MS)
  timer.unref()

  return {
    kind: 'memory',
    async ping () {},
    async close () {
      clearInterval(timer)
    },
    transactions: createMemoryTransactions(now, maxRecords),
    verifications,
    users: createMemoryUsers(),
    revocations,
    dpopProofs,
    loginAttempts,
    refreshTokens,
    webhookDeliveries
  }
}
