import fp from 'fastify-plugin'
import type { FastifyInstance } from 'fastify'
import { VerificationService } from '../lib/verification.js'
import type { VerificationOutcome } from '../lib/verification.js'
import type { EventType } from '../lib/webhooks.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** SMS verification (contract §7): start, check, status and cancel. */
    verifications: VerificationService
  }
}

/** Where Twilio reports delivery (routes/sms-status). */
export const TWILIO_STATUS_PATH = '/v1/sms/status/twilio'

/** The outcomes webhooks hear about (exhausted is Twilio's "failed": every attempt spent). */
const OUTCOME_EVENTS: Partial<Record<VerificationOutcome, EventType>> = {
  approved: 'verification.approved',
  exhausted: 'verification.failed',
  expired: 'verification.expired',
  canceled: 'verification.canceled'
}

/** `fastify.verifications`: the rules in lib/verification.ts wired to the store, the SMS provider and the token service. */
async function verificationsPlugin (fastify: FastifyInstance): Promise<void> {
  const { config, sms, tokens } = fastify
  fastify.decorate('verifications', new VerificationService({
    repository: fastify.store.verifications,
    sender: sms,
    otp: config.otp,
    sms: config.sms,
    issueToken: async (phone, authId) => {
      const { token } = await tokens.issue({ sub: `phone:${phone}`, amr: ['sms'], extra: { phn: phone, auth_id: authId } })
      return token
    },
    onDeliveryFailure: (reason, verification) => {
      fastify.log.warn({ provider: sms.provider, reason }, 'SMS delivery failed')
      fastify.events.emit('sms.delivery_failed', { ...verification, provider: sms.provider, reason })
    },
    ...(config.sms.provider === 'twilio' && config.publicUrl !== undefined ? { statusCallback: `${config.publicUrl}${TWILIO_STATUS_PATH}` } : {}),
    onOutcome: (outcome, verification) => {
      fastify.metrics.verification(outcome)
      const type = OUTCOME_EVENTS[outcome]
      if (type !== undefined) fastify.events.emit(type, { ...verification })
    }
  }))
}

export default fp(verificationsPlugin, { name: 'verifications', dependencies: ['config', 'store', 'sms', 'jwt', 'metrics', 'events'] })
