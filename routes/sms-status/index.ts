import { createHmac, timingSafeEqual } from 'node:crypto'
import { Type } from '@sinclair/typebox'
import type { FastifyInstance } from 'fastify'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { parseFormBody } from '../../lib/form.js'
import { Problem } from '../../lib/problem.js'
import type { DeliveryStatus } from '../../lib/store.js'
import { problemResponses } from '../../schemas/common.js'
import { TWILIO_STATUS_PATH } from '../../plugins/verifications.js'
import { FLOWROUTE_STATUS_PATH, flowrouteReceiptToken } from '../../plugins/sms/flowroute.js'
import { jsonBodyParser } from '../../plugins/http.js'

/** Twilio's message statuses, as the verification's delivery (Twilio: queued, sending, sent, delivered, undelivered, failed, ...). */
const TWILIO_STATUSES: Record<string, DeliveryStatus> = {
  accepted: 'queued',
  scheduled: 'queued',
  queued: 'queued',
  sending: 'queued',
  sent: 'sent',
  delivered: 'delivered',
  read: 'delivered',
  undelivered: 'undelivered',
  failed: 'failed',
  canceled: 'failed'
}

/**
 * Twilio's request signature (X-Twilio-Signature): base64 HMAC-SHA1, keyed with the auth token,
 * over the URL Twilio called followed by every POST parameter's name and value, sorted by name.
 */
export function twilioSignature (authToken: string, url: string, params: Record<string, string>): string {
  const data = url + Object.keys(params).sort().map((name) => `${name}${params[name] ?? ''}`).join('')
  return createHmac('sha1', authToken).update(data, 'utf8').digest('base64')
}

/**
 * Flowroute's delivery receipt statuses (the SMPP gateway's names: level 1 for the hand-off to the
 * carrier, level 2 for what the carrier reported after), and the plain words some routes report.
 */
const FLOWROUTE_STATUSES: Record<string, DeliveryStatus> = {
  'message buffered': 'sent',
  'smsc submit': 'sent',
  'smsc intermediate notifications': 'sent',
  'smsc reject': 'failed',
  'delivery success': 'delivered',
  'delivery failure': 'undelivered',
  sent: 'sent',
  delivered: 'delivered',
  undelivered: 'undelivered',
  expired: 'undelivered',
  failed: 'failed',
  rejected: 'failed'
}

/** A Flowroute status as a delivery: case, underscores and repeated spaces do not matter; unknown is undefined. */
export function flowrouteDelivery (status: string): DeliveryStatus | undefined {
  return FLOWROUTE_STATUSES[status.trim().toLowerCase().replace(/[\s_]+/g, ' ')]
}

const sameSecret = (given: string, expected: string): boolean => {
  const a = Buffer.from(given)
  const b = Buffer.from(expected)
  return a.length === b.length && timingSafeEqual(a, b)
}

/** Delivery status callbacks from the configured SMS provider: Twilio's signed StatusCallback, or Flowroute's delivery receipts. */
const smsStatusRoutes: FastifyPluginAsyncTypebox = async (fastify) => {
  const { config } = fastify
  if (config.sms.provider === 'twilio' && config.sms.twilio.authToken !== undefined) await fastify.register(twilioStatusRoute, { authToken: config.sms.twilio.authToken })
  if (config.sms.provider === 'flowroute' && config.sms.flowroute.secretKey !== undefined) await fastify.register(flowrouteReceiptRoute, { secretKey: config.sms.flowroute.secretKey })
}

/** What a delivery report changes: the verification's delivery, and sms.delivery_failed when it failed. */
async function recordDelivery (fastify: FastifyInstance, provider: 'twilio' | 'flowroute', messageId: string, delivery: DeliveryStatus, detail: string | undefined): Promise<void> {
  const changed = await fastify.verifications.recordDelivery(messageId, delivery)
  if (changed !== null && (delivery === 'failed' || delivery === 'undelivered')) {
    await fastify.events.emit('sms.delivery_failed', {
      auth_id: changed.auth_id,
      verification_id: changed.id,
      provider,
      reason: `${delivery}${detail === undefined ? '' : ` (${detail})`}`
    })
  }
}

const twilioStatusRoute: FastifyPluginAsyncTypebox<{ authToken: string }> = async (fastify, { authToken }) => {
  const { config } = fastify
  fastify.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, parseFormBody)
  fastify.post(TWILIO_STATUS_PATH, {
    config: { rateLimit: false },
    schema: {
      operationId: 'twilioStatusCallback',
      tags: ['verification'],
      summary: 'Twilio status callback: the delivery of a verification\'s SMS',
      description: 'Twilio calls it (the StatusCallback of every send, with PUBLIC_URL set); the request must carry a valid ' +
        'X-Twilio-Signature for PUBLIC_URL + this path. The verification\'s `delivery` then shows queued, sent, delivered, ' +
        'failed or undelivered (only forward); failed and undelivered also raise sms.delivery_failed. Counted only by the ' +
        'flood guard, as provider callbacks come from few addresses.',
      consumes: ['application/x-www-form-urlencoded'],
      body: Type.Object({
        MessageSid: Type.String({ maxLength: 64 }),
        MessageStatus: Type.String({ maxLength: 32 })
      }, { additionalProperties: Type.String({ maxLength: 1024 }) }),
      headers: Type.Object({ 'x-twilio-signature': Type.Optional(Type.String({ maxLength: 128, description: 'Twilio\'s signature of the request' })) }),
      response: { 204: { description: 'Taken (an unknown message is ignored)', type: 'null' }, ...problemResponses(400, 403, 413, 415, 429, 503) }
    }
  }, async (request, reply) => {
    const url = `${config.publicUrl ?? `${request.protocol}://${request.host}`}${request.url}`
    if (!sameSecret(request.headers['x-twilio-signature'] ?? '', twilioSignature(authToken, url, request.body as Record<string, string>))) {
      throw new Problem(403, 'invalid_signature', 'The X-Twilio-Signature header does not match this request.')
    }
    const { MessageSid: messageId, MessageStatus: status } = request.body
    const delivery = TWILIO_STATUSES[status]
    if (delivery !== undefined) {
      const errorCode = (request.body as Record<string, string>).ErrorCode
      await recordDelivery(fastify, 'twilio', messageId, delivery, errorCode === undefined ? undefined : `Twilio error ${errorCode.slice(0, 16)}`)
    }
    return await reply.code(204).send()
  })
}

const FlowrouteReceipt = Type.Object({
  data: Type.Object({
    id: Type.String({ minLength: 1, maxLength: 128, description: 'the message\'s MDR id (`mdr2-…`), as Flowroute answered the send' }),
    type: Type.Optional(Type.String({ maxLength: 64, description: 'always `delivery_receipt`' })),
    attributes: Type.Object({
      status: Type.String({ maxLength: 64, description: 'e.g. `message buffered`, `smsc submit`, `delivery success`, `delivery failure`, `smsc reject`' }),
      level: Type.Optional(Type.Union([Type.Integer(), Type.String({ maxLength: 8 })], { description: '1: hand-off to the carrier; 2: what came after' })),
      status_code: Type.Optional(Type.Union([Type.Integer(), Type.String({ maxLength: 16 })])),
      status_code_description: Type.Optional(Type.String({ maxLength: 512 })),
      timestamp: Type.Optional(Type.String({ maxLength: 64 }))
    }, { description: 'also `body`, the message text, which is never read or kept' })
  })
}, { description: 'Flowroute\'s delivery receipt (Messaging API v2.1 "Receive a DLR")' })

const flowrouteReceiptRoute: FastifyPluginAsyncTypebox<{ secretKey: string }> = async (fastify, { secretKey }) => {
  const token = flowrouteReceiptToken(secretKey)
  // Flowroute posts JSON; JSON:API's media type is taken as JSON too.
  fastify.addContentTypeParser('application/vnd.api+json', { parseAs: 'string' }, jsonBodyParser(fastify))

  fastify.post(`${FLOWROUTE_STATUS_PATH}/:token`, {
    config: { rateLimit: false },
    schema: {
      operationId: 'flowrouteDeliveryReceipt',
      tags: ['verification'],
      summary: 'Flowroute delivery receipt: the delivery of a verification\'s SMS',
      description: 'Flowroute calls it (the `dlr_callback` of every send, with PUBLIC_URL set). Flowroute does not sign its ' +
        'receipts, so the URL carries a token derived from FLOWROUTE_SECRET_KEY; any other token is 403. The verification\'s ' +
        '`delivery` then shows sent, delivered, failed or undelivered (only forward); failed and undelivered also raise ' +
        'sms.delivery_failed. Counted only by the flood guard, as provider callbacks come from few addresses.',
      consumes: ['application/json', 'application/vnd.api+json'],
      params: Type.Object({ token: Type.String({ maxLength: 64, description: 'the receipt token in the URL each send names' }) }),
      body: FlowrouteReceipt,
      response: { 200: { description: 'Taken (an unknown message or status is ignored); Flowroute retries anything else', type: 'null' }, ...problemResponses(400, 403, 413, 415, 429, 503) }
    }
  }, async (request, reply) => {
    if (!sameSecret(request.params.token, token)) {
      throw new Problem(403, 'invalid_signature', 'This delivery receipt URL\'s token is not the one the service gave Flowroute.')
    }
    const { id, attributes } = request.body.data
    const delivery = flowrouteDelivery(attributes.status)
    if (delivery !== undefined) {
      const code = attributes.status_code
      await recordDelivery(fastify, 'flowroute', id, delivery, code === undefined ? undefined : `Flowroute status ${String(code).slice(0, 16)}`)
    }
    return await reply.code(200).send()
  })
}

export default smsStatusRoutes
