import { timingSafeEqual } from 'node:crypto'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Problem } from '../../lib/problem.js'

function sameSecret (given: string, expected: string): boolean {
  const a = Buffer.from(given)
  const b = Buffer.from(expected)
  return a.length === b.length && timingSafeEqual(a, b)
}

/**
 * GET /metrics in the Prometheus text format. With METRICS_TOKEN it wants `Authorization: Bearer
 * <token>`; without it the route is open in development and absent in production, so metrics are
 * never public by default where it matters. Left out of the OpenAPI document: scrapers, not API clients.
 */
const metricsRoutes: FastifyPluginAsyncTypebox = async (fastify) => {
  const { metricsToken, nodeEnv } = fastify.config
  if (metricsToken === undefined && nodeEnv === 'production') return
  fastify.get('/metrics', {
    schema: { hide: true },
    config: { rateLimit: false }
  }, async (request, reply) => {
    if (metricsToken !== undefined) {
      const given = /^Bearer ([^\s]+)$/i.exec(request.headers.authorization ?? '')?.[1]
      if (given === undefined || !sameSecret(given, metricsToken)) {
        throw new Problem(401, 'invalid_metrics_token', 'GET /metrics needs Authorization: Bearer <METRICS_TOKEN>.', { headers: { 'www-authenticate': 'Bearer realm="metrics"' } })
      }
    }
    const text = await fastify.metrics.registry.metrics()
    return await reply.header('cache-control', 'no-store').type(fastify.metrics.registry.contentType).send(text)
  })
}

export default metricsRoutes
