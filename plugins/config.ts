import fp from 'fastify-plugin'
import type { FastifyInstance } from 'fastify'
import type { Config } from '../lib/config.js'

declare module 'fastify' {
  interface FastifyInstance {
    config: Config
  }
}

/** Exposes the validated configuration; loading happens before the app starts (server.ts). */
async function configPlugin (fastify: FastifyInstance, options: { config: Config }): Promise<void> {
  fastify.decorate('config', options.config)
}

export default fp(configPlugin, { name: 'config' })
