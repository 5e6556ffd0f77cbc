import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { HealthSchema, okResponse, problemResponses, ServiceIndexSchema } from '../../schemas/common.js'
import { serviceUnavailable } from '../../lib/problem.js'
import { VERSION } from '../../lib/version.js'

const READY_TIMEOUT_MS = 2_000

const healthRoutes: FastifyPluginAsyncTypebox = async (fastify) => {
  // GET / is where people look first: browsers go to the docs, anything else learns where things are.
  fastify.get('/', {
    schema: {
      operationId: 'serviceIndex',
      tags: ['health'],
      summary: 'Where to start: a redirect to /docs when Swagger UI is on, else the service\'s links',
      description: 'Browsers go to Swagger UI; with DOCS_ENABLED=false the answer names the version and where health and keys are.',
      response: {
        200: okResponse('The service\'s links (DOCS_ENABLED=false)', ServiceIndexSchema),
        302: { description: 'To /docs (Swagger UI)', headers: { location: { type: 'string', enum: ['/docs'], description: 'Swagger UI' } } },
        ...problemResponses(400, 429)
      }
    },
    config: { rateLimit: false }
  }, async (_request, reply) => {
    if (fastify.config.docsEnabled) return await reply.redirect('/docs', 302)
    return { name: 'tokenmint', version: VERSION, openapi: 'openapi.yaml in the repository', health: '/health/ready', jwks: '/.well-known/jwks.json' }
  })

  fastify.get('/health/live', {
    schema: {
      operationId: 'health',
      tags: ['health'],
      summary: 'Liveness: the process answers',
      description: 'For a liveness probe: answers while the process can serve, whatever its dependencies do. Not rate limited.',
      response: { 200: okResponse('The process is up', HealthSchema), ...problemResponses(400) }
    },
    config: { rateLimit: false }
  }, async () => ({ status: 'ok' as const, version: VERSION }))

  fastify.get('/health/ready', {
    schema: {
      operationId: 'ready',
      tags: ['health'],
      summary: 'Readiness: the store answers (and Redis, with REDIS_URL)',
      description: 'For a readiness probe: 200 once the store answers within 2 s and its indexes exist (and Redis answers, with REDIS_URL); 503 otherwise, and while shutting down. Not rate limited.',
      response: { 200: okResponse('Ready to serve', HealthSchema), ...problemResponses(400, 503) }
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
