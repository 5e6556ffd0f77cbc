import fp from 'fastify-plugin'
import fastifyCors from '@fastify/cors'
import type { FastifyInstance } from 'fastify'
import { Problem } from '../lib/problem.js'

/**
 * CORS for browser apps on the origins in CORS_ORIGINS (none by default: nothing is browser-callable
 * cross-origin until an operator says so). A preflight from any other origin is refused with a 403
 * problem rather than a 204 without headers, so the reason shows in the browser's network panel.
 */
async function corsPlugin (fastify: FastifyInstance): Promise<void> {
  const origins = fastify.config.corsOrigins
  if (origins.length === 0) return
  const allowed = new Set(origins)
  fastify.addHook('onRequest', async (request) => {
    const origin = request.headers.origin
    if (request.method === 'OPTIONS' && origin !== undefined && request.headers['access-control-request-method'] !== undefined && !allowed.has(origin)) {
      throw new Problem(403, 'origin_not_allowed', 'This origin is not allowed to call the service from a browser (CORS_ORIGINS).')
    }
  })
  await fastify.register(fastifyCors, {
    origin: [...allowed],
    methods: ['GET', 'POST', 'DELETE'],
    // What a browser app sends: a bearer token (with DPoP or a device id), JSON. API keys stay on servers.
    allowedHeaders: ['authorization', 'content-type', 'dpop', 'x-instance-id', 'accept'],
    exposedHeaders: ['retry-after', 'x-request-id', 'www-authenticate', 'dpop-nonce'],
    credentials: false,
    maxAge: 600,
    // Fastify's own 400 for a bare OPTIONS is plain text; without the strict check it is an empty 204.
    strictPreflight: false
  })
}

export default fp(corsPlugin, { name: 'cors', dependencies: ['config', 'errors'] })
