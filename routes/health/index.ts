import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { HealthSchema, problemResponses, ref, ServiceIndexSchema } from '../../schemas/common.js'
import { serviceUnavailable } from '../../lib/problem.js'
import { VERSION } from '../../lib/version.js'

const READY_TIMEOUT_MS = 2_000

const healthRoutes: FastifyPluginAsyncTypebox = async (fastify) => {
  // GET / is where people look first: browsers go to the docs, anything else learns where things are.
  fastify.get('/', {
    schema: {
      tags: ['health'],
      summary: 'Where to start: a redirect to /docs when Swagger UI is on, else the service\'s links',
      response: { 200: ref(ServiceIndexSchema), 302: { description: 'To /docs (Swagger UI)' } }
    },
    config: { rateLimit: false }
  }, async (_request, reply) => {
    if (fastify.config.docsEnabled) return await reply.redirect('/docs', 302)
    return { name: 'tokenmint', version: VERSION, openapi: 'openapi.yaml in the repository', health: '/health/ready', jwks: '/.well-known/jwks.json' }
  })

  fastify.get('/health/live', {
    schema: {
      tags: ['health'],
      summary: 'Liveness: the process answers',
      response: { 200: ref(HealthSchema) }
    },
    config: { rateLimit: false }
  }, async () => ({ status: 'ok' as const, version: VERSION }))

  fastify.get('/health/ready', {
    schema: {
      tags: ['health'],
      summary: 'Readiness: the store answers (and Redis, with REDIS_URL)',
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
    const redis = fastify.sharedCounters()
    if (redis === 'unreachable') {
      throw serviceUnavailable('rate_limit_unavailable', 'Redis (REDIS_URL, the shared rate-limit counters) is not answering: rate-limited routes answer 503 until it is back.')
    }
    return { status: 'ok' as const, version: VERSION, store: store.kind, ...(redis === undefined ? {} : { redis }) }
  })
}

export default healthRoutes
