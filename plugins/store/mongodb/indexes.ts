import { MongoServerError } from 'mongodb'
import type { Db } from 'mongodb'
import { TRANSACTION_RETENTION_MS } from '../../../lib/store.js'
import { storeError } from './guard.js'

export interface IndexPlan {
  collection: string
  name: string
  key: Record<string, 1 | -1>
  unique?: true
  expireAfterSeconds?: number
}

/** The index shape every expiring-key collection needs: the key unique, the document gone at its deadline. */
function uniqueUntilExpiry (collection: string, field: string, deadline = 'expires_at'): IndexPlan[] {
  return [
    { collection, name: `${field}_unique`, key: { [field]: 1 }, unique: true },
    { collection, name: `${deadline}_ttl`, key: { [deadline]: 1 }, expireAfterSeconds: 0 }
  ]
}

/** Every index the MongoDB store relies on: the unique ones keep keys unique, the TTL ones expire records. */
export const INDEX_PLANS: readonly IndexPlan[] = [
  { collection: 'tokens', name: 'xid_unique', key: { xid: 1 }, unique: true },
  { collection: 'tokens', name: 'phone_newest_first', key: { phone_number: 1, issued_at: -1, xid: -1 } },
  { collection: 'tokens', name: 'expires_at_retention', key: { expires_at: 1 }, expireAfterSeconds: TRANSACTION_RETENTION_MS / 1000 },
  { collection: 'verifications', name: 'auth_id_unique', key: { auth_id: 1 }, unique: true },
  { collection: 'verifications', name: 'purge_at_ttl', key: { purge_at: 1 }, expireAfterSeconds: 0 },
  { collection: 'verifications', name: 'message_id', key: { message_id: 1 } },
  { collection: 'verifications', name: 'pending_by_expiry', key: { status: 1, expires_at: 1 } },
  { collection: 'sms_recipient_sends', name: 'expires_at_ttl', key: { expires_at: 1 }, expireAfterSeconds: 0 },
  { collection: 'users', name: 'username_unique', key: { username: 1 }, unique: true },
  ...uniqueUntilExpiry('revocations', 'jti'),
  ...uniqueUntilExpiry('dpop_proofs', 'key'),
  ...uniqueUntilExpiry('login_attempts', 'key', 'resets_at'),
  ...uniqueUntilExpiry('refresh_tokens', 'hash', 'family_expires_at'),
  ...uniqueUntilExpiry('webhook_deliveries', 'id', 'purge_at'),
  { collection: 'webhook_deliveries', name: 'due', key: { status: 1, next_attempt_at: 1 } },
  { collection: 'webhook_deliveries', name: 'newest_first', key: { created_at: -1, id: -1 } }
]

export type IndexOutcome = 'in_place' | 'ttl_updated'

/** An index that could not be put in place, and why, in words an operator can act on. */
export class IndexError extends Error {
  constructor (readonly plan: IndexPlan, readonly reason: string) {
    super(`${plan.collection}.${plan.name}: ${reason}`)
    this.name = 'IndexError'
  }
}

const INDEX_OPTIONS_CONFLICT = 85
const INDEX_KEY_SPECS_CONFLICT = 86

/**
 * Creates one index. An existing index that differs only in its TTL is changed with collMod
 * (createIndexes refuses that); any other difference, or duplicate keys under a unique index,
 * is an IndexError saying what to fix. Outages are StoreUnavailableError.
 */
export async function ensureIndex (db: Db, plan: IndexPlan): Promise<IndexOutcome> {
  const { collection, name, key, ...options } = plan
  try {
    await db.collection(collection).createIndex(key, { name, ...options })
    return 'in_place'
  } catch (error) {
    if (!(error instanceof MongoServerError)) throw storeError(error)
    if (error.code === 11000) throw new IndexError(plan, 'duplicate keys: existing documents share a value the index must keep unique; remove or merge them')
    if (error.code !== INDEX_OPTIONS_CONFLICT && error.code !== INDEX_KEY_SPECS_CONFLICT) throw storeError(error)
  }
  const existing = await db.collection(collection).listIndexes().toArray().catch((error: unknown) => { throw storeError(error) })
  const current = existing.find((index) => index.name === name) as { key?: unknown, unique?: boolean, expireAfterSeconds?: number } | undefined
  const sameShape = current !== undefined && JSON.stringify(current.key) === JSON.stringify(key) && (current.unique === true) === (plan.unique === true)
  if (sameShape && plan.expireAfterSeconds !== undefined && current.expireAfterSeconds !== undefined) {
    try {
      await db.command({ collMod: collection, index: { name, expireAfterSeconds: plan.expireAfterSeconds } })
    } catch (error) {
      if (error instanceof MongoServerError) throw new IndexError(plan, `changing the TTL with collMod failed (${error.codeName ?? error.code})`)
      throw storeError(error)
    }
    return 'ttl_updated'
  }
  throw new IndexError(plan, current === undefined
    ? 'another index covers the same key with other options; drop it so this one can be created'
    : 'an index with this name exists with other options (key or uniqueness); drop it so it can be recreated')
}

export interface IndexReport {
  /** Indexes in place, by collection.name. */
  inPlace: string[]
  ttlUpdated: string[]
  failures: IndexError[]
}

/** Every plan on its own: one failure does not keep the others from being created. Outages reject. */
export async function ensureIndexes (db: Db, plans: readonly IndexPlan[] = INDEX_PLANS): Promise<IndexReport> {
  const report: IndexReport = { inPlace: [], ttlUpdated: [], failures: [] }
  for (const plan of plans) {
    try {
      const outcome = await ensureIndex(db, plan)
      report.inPlace.push(`${plan.collection}.${plan.name}`)
      if (outcome === 'ttl_updated') report.ttlUpdated.push(`${plan.collection}.${plan.name}`)
    } catch (error) {
      if (!(error instanceof IndexError)) throw error
      report.failures.push(error)
    }
  }
  return report
}
