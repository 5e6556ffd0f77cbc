import fp from 'fastify-plugin'
import type { FastifyInstance } from 'fastify'
import { sharedSchemas } from '../schemas/index.js'

async function schemasPlugin (fastify: FastifyInstance): Promise<void> {
  for (const schema of sharedSchemas) fastify.addSchema(schema)
}

export default fp(schemasPlugin, { name: 'schemas' })
