import { Type } from '@sinclair/typebox'
import { EVENT_TYPES } from '../lib/webhooks.js'

const DeliveryStatus = Type.Union([Type.Literal('pending'), Type.Literal('delivered'), Type.Literal('failed')])

export const WebhookDeliverySchema = Type.Object({
  id: Type.String({ description: '`<event id>:<endpoint id>`' }),
  event_id: Type.String({ description: 'The event id: the `webhook-id` header, the receiver\'s idempotency key', examples: ['evt_4f1c2a9b0d3e4c5f8a7b6c5d4e3f2a1b'] }),
  event_type: Type.Union(EVENT_TYPES.map((type) => Type.Literal(type))),
  endpoint_id: Type.String(),
  status: DeliveryStatus,
  attempts: Type.Integer({ description: 'Attempts so far' }),
  created_at: Type.String({ format: 'date-time' }),
  next_attempt_at: Type.Optional(Type.String({ format: 'date-time', description: 'Pending: when it is tried next' })),
  last_attempt_at: Type.Optional(Type.String({ format: 'date-time' })),
  last_result: Type.Optional(Type.String({ description: 'The receiver\'s status code, or why no answer came (timeout, connection_refused, ...)', examples: ['503'] })),
  delivered_at: Type.Optional(Type.String({ format: 'date-time' }))
}, { $id: 'WebhookDelivery', title: 'WebhookDelivery', additionalProperties: false })

export const WebhookDeliveryListSchema = Type.Object({
  items: Type.Array(Type.Unsafe({ $ref: 'WebhookDelivery' }))
}, { $id: 'WebhookDeliveryList', title: 'WebhookDeliveryList', description: 'Newest first', additionalProperties: false })

export const DeliveryQuerySchema = Type.Object({
  status: Type.Optional(DeliveryStatus),
  event_type: Type.Optional(Type.Union(EVENT_TYPES.map((type) => Type.Literal(type)))),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200, default: 50, description: 'At most this many, 1..200' }))
}, { additionalProperties: false })
