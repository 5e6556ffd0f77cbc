import fp from 'fastify-plugin'
import type { FastifyInstance } from 'fastify'
import { hmacKeyRing } from '../lib/keys.js'
import type { KeyRing } from '../lib/keys.js'

declare module 'fastify' {
  interface FastifyInstance {
    keyRing: KeyRing
  }
}

/** Builds the access-token key ring from JWT_ALGORITHM, JWT_SECRET and JWT_KEYS_FILE. */
async function keysPlugin (fastify: FastifyInstance): Promise<void> {
  const { jwt } = fastify.config
  if (jwt.algorithm !== 'HS256' || jwt.keysFile !== undefined) {
    throw new Error(`JWT_ALGORITHM=${jwt.algorithm} with JWT_KEYS_FILE is not supported by this build`)
  }
  fastify.decorate('keyRing', hmacKeyRing(jwt.secret))
}

export default fp(keysPlugin, { name: 'keys', dependencies: ['config'] })
