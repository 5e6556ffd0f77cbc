import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { HealthSchema, problemResponses, ref } from '../../schemas/common.js'
import { serviceUnavailable } from '../../lib/problem.js'

const READY_TIMEOUT_MS = 2_000

const healthRoutes: FastifyPluginAsyncTypebox = async (fastify) => {
  fastify.get('/health/live', {
    schema: {
      tags: ['health'],
      summary: 'Liveness: the process answers',
      response: { 200: ref(HealthSchema) }
    },
    config: { rateLimit: false }
  }, async () => ({ status: 'ok' as const }))

  fastify.get('/health/ready', {
    schema: {
      tags: ['health'],
      summary: 'Readiness: the store answers',
      response: { 200: ref(HealthSchema), ...problemResponses(503) }
    },
    config: { rateLimit: false }
  }, async () => {
    const { store } = fastify
    let timer: NodeJS.Timeout | undefined
    const timeout = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => { reject(new Error('timeout')) }, READY_TIMEOUT_MS)
    })
    try {
      await Promise.race([store.ping(), timeout])
    } catch {
      throw serviceUnavailable('store_unavailable', 'The data store is not answering.')
    } finally {
      clearTimeout(timer)
    }
    return { status: 'ok' as const, store: store.kind }
  })
}

export default healthRoutes
