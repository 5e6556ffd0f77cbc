import { Type } from '@sinclair/typebox'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { apiKeySecurity, okResponse, problemResponses, RATE_LIMIT_HEADERS, ref } from '../../schemas/common.js'
import { CredentialsSchema, PasswordResetSchema, UserSchema } from '../../schemas/lifecycle.js'

const userRoutes: FastifyPluginAsyncTypebox = async (fastify) => {
  // API clients need the 'accounts' scope for every route in this file.
  fastify.addHook('onRoute', (route) => { route.config = { ...route.config, scope: 'accounts' } })
  fastify.post('/v1/users', {
    schema: {
      operationId: 'createUser',
      tags: ['auth'],
      summary: 'Create a user who can log in',
      description: 'The username is NFKC-normalised and lower-cased (3..64 characters of `a-z 0-9 . _ -`); ' +
        'the password (8..128 characters, NFKC) is stored only as a scrypt hash.',
      security: apiKeySecurity,
      body: ref(CredentialsSchema),
      response: { 201: okResponse('Created', UserSchema, RATE_LIMIT_HEADERS), ...problemResponses(400, 401, 403, 409, 413, 415, 429, 503) }
    }
  }, async (request, reply) => {
    const user = await fastify.accounts.create(request.body.username, request.body.password)
    reply.code(201)
    return { username: user.username, created_at: user.created_at.toISOString() }
  })

  fastify.delete('/v1/users/:username', {
    schema: {
      operationId: 'deleteUser',
      tags: ['auth'],
      summary: 'Delete a user; tokens already issued to them stop working',
      description: 'The username is normalised as at creation. Every token issued to the user is refused from then on (the user no longer exists), on every instance sharing the store.',
      security: apiKeySecurity,
      params: Type.Object({ username: Type.String({ maxLength: 256 }) }),
      response: {
        204: { description: 'Deleted', type: 'null' },
        ...problemResponses(400, 401, 403, 404, 414, 415, 429, 503)
      }
    }
  }, async (request, reply) => {
    await fastify.accounts.remove(request.params.username)
    return reply.code(204).send()
  })

  fastify.post('/v1/users/:username/password', {
    schema: {
      operationId: 'resetPassword',
      tags: ['auth'],
      summary: 'Set a user\'s password (administration); every session of the user ends',
      description: 'For an API client with the accounts scope (support desks, account recovery). Every token and refresh token ' +
        'issued to the user stops working, on every instance; the user logs in again with the new password.',
      security: apiKeySecurity,
      params: Type.Object({ username: Type.String({ maxLength: 256 }) }),
      body: ref(PasswordResetSchema),
      response: {
        204: { description: 'Set; every session of the user has ended', type: 'null' },
        ...problemResponses(400, 401, 403, 404, 409, 413, 414, 415, 429, 503)
      }
    }
  }, async (request, reply) => {
    await fastify.accounts.resetPassword(request.params.username, request.body.password)
    return reply.code(204).send()
  })
}

export default userRoutes
