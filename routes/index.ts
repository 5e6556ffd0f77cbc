import type { FastifyInstance } from 'fastify'
import healthRoutes from './health/index.js'
import mobileRoutes from './mobile/index.js'
import appVerifyRoutes from './appverify/index.js'
import transactionRoutes from './transactions/index.js'
import verificationRoutes from './verifications/index.js'

/** Every route plugin, in one place, so the app's surface is easy to read. */
export default async function routes (fastify: FastifyInstance): Promise<void> {
  await fastify.register(healthRoutes)
  await fastify.register(mobileRoutes)
  await fastify.register(appVerifyRoutes)
  await fastify.register(transactionRoutes)
  await fastify.register(verificationRoutes)
}
