import fp from 'fastify-plugin'
import type { FastifyInstance } from 'fastify'
import { ConfigError } from '../lib/config.js'
import { hmacKeyRing, KeyRingError, keyRingFromJwks, loadKeyRingFile } from '../lib/keys.js'
import type { KeyRing } from '../lib/keys.js'

declare module 'fastify' {
  interface FastifyInstance {
    keyRing: KeyRing
  }
}

/**
 * Builds the access-token key ring: JWT_KEYS_FILE when set (rotation: the first key signs, all
 * verify), else JWT_SECRET for HS256, else (development only) the generated key pair.
 * A bad key file stops the start with a ConfigError naming the file and key, never key material.
 */
async function keysPlugin (fastify: FastifyInstance): Promise<void> {
  const { jwt } = fastify.config
  let ring: KeyRing
  try {
    if (jwt.keysFile !== undefined) ring = loadKeyRingFile(jwt.algorithm, jwt.keysFile)
    else if (jwt.algorithm === 'HS256') ring = hmacKeyRing(jwt.secret)
    else if (jwt.devJwks !== undefined) ring = keyRingFromJwks(jwt.algorithm, JSON.parse(jwt.devJwks), 'the generated development key')
    else throw new KeyRingError(`JWT_KEYS_FILE is required for JWT_ALGORITHM=${jwt.algorithm}`)
  } catch (error) {
    if (error instanceof KeyRingError) throw new ConfigError([error.message])
    throw new ConfigError(['the generated development key is damaged: delete it from the dev secrets file to generate a new one'])
  }
  fastify.decorate('keyRing', ring)
}

export default fp(keysPlugin, { name: 'keys', dependencies: ['config'] })
