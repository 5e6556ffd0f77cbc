import fp from 'fastify-plugin'
import type { FastifyInstance } from 'fastify'
import { VerificationService } from '../lib/verification.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** SMS verification (contract §7): start, check, status and cancel. */
    verifications: VerificationService
  }
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
    onDeliveryFailure: (reason) => { fastify.log.warn({ provider: sms.provider, reason }, 'SMS delivery failed') },
    onOutcome: (outcome) => { fastify.metrics.verification(outcome) }
  }))
}

export default fp(verificationsPlugin, { name: 'verifications', dependencies: ['config', 'store', 'sms', 'jwt', 'metrics'] })
