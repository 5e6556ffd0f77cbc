import fp from 'fastify-plugin'
import type { FastifyInstance } from 'fastify'
import { createMemoryStore } from './store/memory.js'
import type { Store } from '../lib/store.js'

declare module 'fastify' {
  interface FastifyInstance {
    store: Store
  }
}

export interface StorePluginOptions {
  /** Tests pass a prepared store (for example one with an injected fault). */
  store?: Store
}

/**
 * The store: MongoDB (through @fastify/mongodb) when MONGODB_URL is set, the embedded memory
 * store otherwise. An unreachable MongoDB does not stop the service from starting: it connects
 * explicitly in the background, retrying until MongoDB answers and again whenever the driver's
 * topology closes, then creates every index. Until all indexes exist /health/ready answers 503
 * and writes that rely on unique keys answer 503.
 */
async function storePlugin (fastify: FastifyInstance, options: StorePluginOptions): Promise<void> {
  const { config } = fastify
  if (options.store !== undefined) {
    fastify.decorate('store', options.store)
  } else if (config.mongodbUrl === undefined) {
    fastify.decorate('store', createMemoryStore(Date.now, { maxRecords: config.memoryStoreMaxRecords }))
  } else {
    // Loaded only with MONGODB_URL: the driver allocates a 17 MiB serialization buffer as it loads.
    const { registerMongoStore } = await import('./store/mongodb-connection.js')
    await registerMongoStore(fastify, config.mongodbUrl, config.mongodbDatabase)
  }
  fastify.addHook('onClose', async () => { await fastify.store.close() })
}

export default fp(storePlugin, { name: 'store', dependencies: ['config'] })
