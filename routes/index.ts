import type { FastifyInstance } from 'fastify'
import healthRoutes from './health/index.js'
import mobileRoutes from './mobile/index.js'
import appVerifyRoutes from './appverify/index.js'
import transactionRoutes from './transactions/index.js'
import verificationRoutes from './verifications/index.js'
import jwksRoutes from './jwks/index.js'
import userRoutes from './users/index.js'
import authRoutes from './auth/index.js'
import tokenRoutes from './tokens/index.js'
import metricsRoutes from './metrics/index.js'
import oauthRoutes from './oauth/index.js'
import flowrouteRoutes from './flowroute/index.js'
import webhookRoutes from './webhooks/index.js'
import smsStatusRoutes from './sms-status/index.js'

/** Every route plugin, in one place, so the app's surface is easy to read. */
export default async function routes (fastify: FastifyInstance): Promise<void> {
  await fastify.register(healthRoutes)
  await fastify.register(mobileRoutes)
  await fastify.register(appVerifyRoutes)
  await fastify.register(transactionRoutes)
  await fastify.register(verificationRoutes)
  await fastify.register(jwksRoutes)
  await fastify.register(userRoutes)
  await fastify.register(authRoutes)
  await fastify.register(tokenRoutes)
  await fastify.register(metricsRoutes)
  await fastify.register(oauthRoutes)
  await fastify.register(webhookRoutes)
  await fastify.register(smsStatusRoutes)
  // Off by default: Flowroute's own API for its unmodified clients, at its own prefix.
  const compat = fastify.config.sms.flowrouteCompat
  if (compat.enabled) await fastify.register(flowrouteRoutes, { prefix: compat.prefix })
}
