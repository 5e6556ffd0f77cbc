import fp from 'fastify-plugin'
import fastifyMongodb from '@fastify/mongodb'
import { MongoClient } from 'mongodb'
import type { FastifyInstance } from 'fastify'
import { createMemoryStore } from './store/memory.js'
import { createMongoStore } from './store/mongodb.js'
import type { Store } from './store/types.js'

declare module 'fastify' {
  interface FastifyInstance {
    store: Store
  }
}

export interface StorePluginOptions {
  /** Tests pass a prepared store (for example one with an injected fault). */
  store?: Store
}

const INDEX_RETRY_MS = 5_000

/**
 * The store: MongoDB (through @fastify/mongodb) when MONGODB_URL is set, the embedded memory
 * store otherwise. An unreachable MongoDB does not stop the service from starting: routes that
 * need it answer 503 and /health/ready reports it until it comes back.
 */
async function storePlugin (fastify: FastifyInstance, options: StorePluginOptions): Promise<void> {
  const { config } = fastify
  if (options.store !== undefined) {
    fastify.decorate('store', options.store)
  } else if (config.mongodbUrl === undefined) {
    fastify.decorate('store', createMemoryStore())
  } else {
    // Our own client: the driver connects lazily, so a MongoDB outage at boot is survivable.
    const client = new MongoClient(config.mongodbUrl, {
      serverSelectionTimeoutMS: 2_000,
      connectTimeoutMS: 2_000,
      timeoutMS: 5_000,
      appName: 'tokenmint'
    })
    fastify.addHook('onClose', async () => { await client.close(true) })
    await fastify.register(fastifyMongodb, { client, database: config.mongodbDatabase })
    const mongo = fastify.mongo
    /* c8 ignore next */
    if (mongo.db === undefined) throw new Error('MongoDB database is not configured')
    const store = createMongoStore({ client: mongo.client, db: mongo.db })
    fastify.decorate('store', store)

    let retry: NodeJS.Timeout | undefined
    const ensureIndexes = (): void => {
      store.ensureIndexes().then(
        () => { fastify.log.info('MongoDB indexes are in place') },
        () => {
          fastify.log.warn({ retryInMs: INDEX_RETRY_MS }, 'MongoDB is unreachable; indexes will be created when it answers')
          retry = setTimeout(ensureIndexes, INDEX_RETRY_MS)
          retry.unref()
        }
      )
    }
    fastify.addHook('onReady', async () => { ensureIndexes() })
    fastify.addHook('onClose', async () => { clearTimeout(retry) })
  }
  fastify.addHook('onClose', async () => { await fastify.store.close() })
}

export default fp(storePlugin, { name: 'store', dependencies: ['config'] })
