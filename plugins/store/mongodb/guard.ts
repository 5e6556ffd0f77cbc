import { MongoError, MongoNetworkTimeoutError, MongoServerError, MongoServerSelectionError } from 'mongodb'
import { DuplicateKeyError, StoreUnavailableError } from '../../../lib/store.js'

/**
 * Server errors that say "not now" rather than "never": a primary stepping down or shutting down,
 * an operation that ran out of time, a write concern that timed out. Codes as the driver's own
 * MONGODB_ERROR_CODES and the retryable-reads/writes specifications name them.
 */
const TRANSIENT_SERVER_CODES = new Set([
  6, // HostUnreachable
  7, // HostNotFound
  50, // MaxTimeMSExpired
  64, // WriteConcernTimeout
  89, // NetworkTimeout
  91, // ShutdownInProgress
  134, // ReadConcernMajorityNotAvailableYet
  189, // PrimarySteppedDown
  262, // ExceededTimeLimit
  9001, // SocketException
  10058, // LegacyNotPrimary
  10107, // NotWritablePrimary
  11600, // InterruptedAtShutdown
  11602, // InterruptedDueToReplStateChange
  13435, // NotPrimaryNoSecondaryOk
  13436 // NotPrimaryOrSecondary
])

/** Maps driver errors to the store's own: outages and transient server states become StoreUnavailableError, E11000 DuplicateKeyError. */
export async function guard<T> (operation: () => Promise<T>): Promise<T> {
  try {
    return await operation()
  } catch (error) {
    throw storeError(error)
  }
}

export function storeError (error: unknown): unknown {
  if (error instanceof MongoServerError) {
    if (error.code === 11000) return new DuplicateKeyError()
    if ((typeof error.code === 'number' && TRANSIENT_SERVER_CODES.has(error.code)) || error.hasErrorLabel('RetryableWriteError') || error.hasErrorLabel('TransientTransactionError')) {
      return new StoreUnavailableError()
    }
    return error
  }
  // Network errors, timeouts, server selection, a closed topology: the database is not reachable now.
  if (error instanceof MongoError) return new StoreUnavailableError()
  return error
}

/** Why MongoDB could not be used, in words for a log line (no driver class names, hosts or messages). */
export function outageCause (error: unknown): string {
  if (error instanceof MongoServerSelectionError) return 'no MongoDB server answered within the server selection timeout'
  if (error instanceof MongoNetworkTimeoutError) return 'a MongoDB socket stayed silent past its timeout'
  if (error instanceof MongoServerError) return `MongoDB refused the operation (code ${String(error.code)})`
  if (error instanceof MongoError) return 'the connection to MongoDB failed'
  return 'an unexpected error'
}

/** MongoDB returns absent optional fields as missing or null; the memory store leaves them out. */
export function withoutNull<T extends object> (record: T): T {
  return Object.fromEntries(Object.entries(record).filter(([, v]) => v !== undefined && v !== null)) as T
}
