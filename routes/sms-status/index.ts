import { createHmac, timingSafeEqual } from 'node:crypto'
import { Type } from '@sinclair/typebox'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { parseFormBody } from '../../lib/form.js'
import { Problem } from '../../lib/problem.js'
import type { DeliveryStatus } from '../../lib/store.js'
import { problemResponses } from '../../schemas/common.js'
import { TWILIO_STATUS_PATH } from '../../plugins/verifications.js'

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

/** Delivery status callbacks from SMS providers: only Twilio signs its requests, so only Twilio's are taken. */
const smsStatusRoutes: FastifyPluginAsyncTypebox = async (fastify) => {
  const { config } = fastify
  const authToken = config.sms.twilio.authToken
  if (config.sms.provider !== 'twilio' || authToken === undefined) return
  fastify.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, parseFormBody)

  fastify.post(TWILIO_STATUS_PATH, {
    schema: {
      operationId: 'twilioStatusCallback',
      tags: ['verification'],
      summary: 'Twilio status callback: the delivery of a verification\'s SMS',
      description: 'Twilio calls it (the StatusCallback of every send, with PUBLIC_URL set); the request must carry a valid ' +
        'X-Twilio-Signature for PUBLIC_URL + this path. The verification\'s `delivery` then shows queued, sent, delivered, ' +
        'failed or undelivered (only forward); failed and undelivered also raise sms.delivery_failed.',
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
    const expected = Buffer.from(twilioSignature(authToken, url, request.body as Record<string, string>))
    const given = Buffer.from(request.headers['x-twilio-signature'] ?? '')
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
      throw new Problem(403, 'invalid_signature', 'The X-Twilio-Signature header does not match this request.')
    }
    const { MessageSid: messageId, MessageStatus: status } = request.body
    const delivery = TWILIO_STATUSES[status]
    if (delivery !== undefined) {
      const changed = await fastify.verifications.recordDelivery(messageId, delivery)
      if (changed !== null && (delivery === 'failed' || delivery === 'undelivered')) {
        const errorCode = (request.body as Record<string, string>).ErrorCode
        await fastify.events.emit('sms.delivery_failed', {
          auth_id: changed.auth_id,
          verification_id: changed.id,
          provider: 'twilio',
          reason: `${delivery}${errorCode === undefined ? '' : ` (Twilio error ${errorCode.slice(0, 16)})`}`
        })
      }
    }
    return await reply.code(204).send()
  })
}

export default smsStatusRoutes
