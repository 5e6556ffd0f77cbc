import fastifyMongodb from '@fastify/mongodb'
import { MongoClient } from 'mongodb'
import type { FastifyBaseLogger, FastifyInstance } from 'fastify'
import { createMongoStore } from './mongodb.js'
import type { MongoStore } from './mongodb.js'
import { outageCause } from './mongodb/guard.js'

/** Driver timeouts: a MongoDB that is down or stalled becomes a 503 within a few seconds, never a hung request. */
export const MONGO_CLIENT_OPTIONS = {
  serverSelectionTimeoutMS: 2_000,
  connectTimeoutMS: 2_000,
  // No answer on a socket for this long ends the operation (MongoNetworkTimeoutError, mapped to 503).
  socketTimeoutMS: 5_000,
  // Waiting for a free pooled connection is bounded as well.
  waitQueueTimeoutMS: 2_000,
  appName: 'tokenmint'
} as const

/** Delays between connection and index attempts: quick at first, then every 30 s. */
const RETRY_DELAYS_MS = [250, 500, 1_000, 2_000, 5_000, 10_000, 30_000]

/** The MongoDB store through @fastify/mongodb, kept connected and indexed in the background (see mongoUpkeep). */
export async function registerMongoStore (fastify: FastifyInstance, url: string, database: string): Promise<void> {
  const client = new MongoClient(url, MONGO_CLIENT_OPTIONS)
  await fastify.register(fastifyMongodb, { client, database })
  const mongo = fastify.mongo
  /* c8 ignore next */
  if (mongo.db === undefined) throw new Error('MongoDB database is not configured')
  const store = createMongoStore({ db: mongo.db })
  fastify.decorate('store', store)
  const upkeep = mongoUpkeep(client, store, fastify.log)
  fastify.addHook('onReady', async () => { upkeep.start() })
  // Stopped before the client closes, so its closing is not taken for an outage.
  fastify.addHook('preClose', async () => { upkeep.stop() })
  // @fastify/mongodb closes only clients it created itself.
  fastify.addHook('onClose', async () => { await client.close() })
}

interface Upkeep {
  start (): void
  stop (): void
}

/**
 * Keeps the client connected and the indexes in place. The driver (7.x) connects implicitly on
 * the first operation, and when that fails it keeps a closed topology that fails every later
 * operation at once; an explicit connect() builds a new one. So: connect explicitly, and connect
 * again whenever the topology closes while the service is running.
 */
export function mongoUpkeep (client: MongoClient, store: MongoStore, log: FastifyBaseLogger): Upkeep {
  let running = false
  let failures = 0
  let timer: NodeJS.Timeout | undefined
  let lastProblem = ''

  const nextDelay = (): number => RETRY_DELAYS_MS[Math.min(failures, RETRY_DELAYS_MS.length - 1)] as number

  const schedule = (): void => {
    if (!running || timer !== undefined) return
    timer = setTimeout(() => { timer = undefined; attempt().catch(() => {}) }, nextDelay())
    timer.unref()
  }

  /** Logs a problem once until it changes, so a long outage is one line rather than one per retry. */
  const report = (problem: string, fields: Record<string, unknown>, level: 'warn' | 'error'): void => {
    if (problem === lastProblem) return
    lastProblem = problem
    log[level]({ ...fields, retryInMs: nextDelay() }, problem)
  }

  const attempt = async (): Promise<void> => {
    if (!running) return
    try {
      await client.connect()
    } catch (error) {
      failures++
      report('MongoDB is unreachable; retrying', { cause: outageCause(error) }, 'warn')
      schedule()
      return
    }
    if (store.indexesReady) {
      failures = 0
      return
    }
    try {
      const result = await store.ensureIndexes()
      if (result.failures.length === 0) {
        failures = 0
        lastProblem = ''
        log.info({ indexes: result.inPlace.length, ttlUpdated: result.ttlUpdated }, 'MongoDB is connected and every index is in place')
        return
      }
      failures++
      for (const failure of result.failures) {
        log.error({ collection: failure.plan.collection, index: failure.plan.name, reason: failure.reason }, 'MongoDB index is missing: this instance stays not ready')
      }
      lastProblem = ''
    } catch (error) {
      failures++
      report('MongoDB stopped answering while indexes were created; retrying', { cause: outageCause(error) }, 'warn')
    }
    schedule()
  }

  const onTopologyClosed = (): void => {
    if (!running) return
    failures = Math.max(failures, 1)
    schedule()
  }

  return {
    start () {
      if (running) return
      running = true
      client.on('topologyClosed', onTopologyClosed)
      attempt().catch(() => {})
    },
    stop () {
      running = false
      client.off('topologyClosed', onTopologyClosed)
      clearTimeout(timer)
      timer = undefined
    }
  }
}
