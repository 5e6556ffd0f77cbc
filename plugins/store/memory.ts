import type { AccessTokenRecord, AccessTokenRepository, Store } from '../../lib/store.js'
import { DuplicateKeyError, storeKey } from '../../lib/store.js'
import { createMemoryTransactions } from './memory/transactions.js'
import { createMemoryVerifications } from './memory/verifications.js'
import { createMemoryUsers } from './memory/users.js'
import { createMemoryRevocations } from './memory/revocations.js'
import { createMemoryReplayCache } from './memory/dpop-proofs.js'
import { createMemoryLoginAttempts } from './memory/login-attempts.js'

const SWEEP_INTERVAL_MS = 60_000

/**
 * The embedded store: plain Maps with the same semantics as the MongoDB store (unique keys,
 * expiry, atomic updates). Data lives as long as the process.
 */
export function createMemoryStore (now: () => number = Date.now): Store {
  const accessTokens = new Map<string, AccessTokenRecord>()
  const verifications = createMemoryVerifications()
  const revocations = createMemoryRevocations(now)
  const dpopProofs = createMemoryReplayCache(now)
  const loginAttempts = createMemoryLoginAttempts(now)

  const sweep = (): void => {
    const time = now()
    for (const [jti, record] of accessTokens) {
      if (record.expires_at.getTime() <= time) accessTokens.delete(jti)
    }
    verifications.sweep(time)
    for (const repository of [revocations, dpopProofs, loginAttempts]) repository.sweep()
  }
  const timer = setInterval(sweep, SWEEP_INTERVAL_MS)
  timer.unref()

  const accessTokenRepository: AccessTokenRepository = {
    async record (token) {
      if (accessTokens.has(storeKey(token.jti))) throw new DuplicateKeyError('jti already recorded')
      accessTokens.set(token.jti, structuredClone(token))
    },
    async find (jti) {
      const record = accessTokens.get(storeKey(jti))
      if (record === undefined || record.expires_at.getTime() <= now()) return null
      return structuredClone(record)
    }
  }

  return {
    kind: 'memory',
    async ping () {},
    async close () {
      clearInterval(timer)
    },
    accessTokens: accessTokenRepository,
    transactions: createMemoryTransactions(now),
    verifications,
    users: createMemoryUsers(),
    revocations,
    dpopProofs,
    loginAttempts
  }
}
