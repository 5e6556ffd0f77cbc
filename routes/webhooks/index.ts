import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { integerQueryParameter } from '../../lib/form.js'
import { badRequest } from '../../lib/problem.js'
import { apiKeySecurity, okResponse, problemResponses, RATE_LIMIT_HEADERS } from '../../schemas/common.js'
import { DeliveryQuerySchema, WebhookDeliveryListSchema } from '../../schemas/events.js'

const webhookRoutes: FastifyPluginAsyncTypebox = async (fastify) => {
  // API clients need the 'events' scope for every route in this file.
  fastify.addHook('onRoute', (route) => { route.config = { ...route.config, scope: 'events' } })

  fastify.get('/v1/webhooks/deliveries', {
    schema: {
      operationId: 'webhookDeliveries',
      tags: ['events'],
      summary: 'The webhook delivery log, newest first',
      description: 'Every event queued for an endpoint (WEBHOOKS_FILE): pending (with when it is tried next), delivered, or failed ' +
        'after WEBHOOK_MAX_ATTEMPTS, with the last result. Kept 7 days after a delivery ends.',
      security: apiKeySecurity,
      querystring: DeliveryQuerySchema,
      response: { 200: okResponse('The deliveries', WebhookDeliveryListSchema, RATE_LIMIT_HEADERS), ...problemResponses(400, 401, 403, 429, 503) }
    },
    config: { validationProblems: { '*': (field) => badRequest('invalid_request', `${field === '' ? 'The query' : field} is not valid: status is pending, delivered or failed; event_type an event type; limit 1..200.`) } },
    preValidation: integerQueryParameter('limit')
  }, async (request) => {
    const { status, event_type: eventType, limit = 50 } = request.query
    const records = await fastify.store.webhookDeliveries.list({ limit, ...(status === undefined ? {} : { status }), ...(eventType === undefined ? {} : { eventType }) })
    return {
      items: records.map((record) => ({
        id: record.id,
        event_id: record.event_id,
        event_type: record.event_type as never,
        endpoint_id: record.endpoint_id,
        status: record.status,
        attempts: record.attempts,
        created_at: record.created_at.toISOString(),
        ...(record.status === 'pending' ? { next_attempt_at: record.next_attempt_at.toISOString() } : {}),
        ...(record.last_attempt_at === undefined ? {} : { last_attempt_at: record.last_attempt_at.toISOString() }),
        ...(record.last_result === undefined ? {} : { last_result: record.last_result }),
        ...(record.delivered_at === undefined ? {} : { delivered_at: record.delivered_at.toISOString() })
      }))
    }
  })
}

export default webhookRoutes
