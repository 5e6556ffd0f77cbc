import fp from 'fastify-plugin'
import type { FastifyInstance } from 'fastify'
import { VerificationService } from '../lib/verification.js'
import type { VerificationOutcome } from '../lib/verification.js'
import type { EventType } from '../lib/webhooks.js'
import { FLOWROUTE_STATUS_PATH, flowrouteReceiptToken } from './sms/flowroute.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** SMS verification (contract §7): start, check, status and cancel. */
    verifications: VerificationService
  }
}

/** Where Twilio reports delivery (routes/sms-status). */
export const TWILIO_STATUS_PATH = '/v1/sms/status/twilio'

/**
 * The outcomes webhooks hear about (exhausted is Twilio's "failed": every attempt spent). Expiry is
 * reported by the sweeper below, once per verification, whether or not anyone checks it again.
 */
const OUTCOME_EVENTS: Partial<Record<VerificationOutcome, EventType>> = {
  approved: 'verification.approved',
  exhausted: 'verification.failed',
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
    onDeliveryFailure: async (reason, verification) => {
      fastify.log.warn({ provider: sms.provider, reason }, 'SMS delivery failed')
      await fastify.events.emit('sms.delivery_failed', { ...verification, provider: sms.provider, reason })
    },
    ...statusCallback(config),
    onOutcome: async (outcome, verification) => {
      fastify.metrics.verification(outcome)
      const type = OUTCOME_EVENTS[outcome]
      if (type !== undefined) await fastify.events.emit(type, { ...verification })
    }
  }))

  // verification.expired for every verification that ends by expiry: claimed atomically in the
  // store, so with several instances each expiry is reported once.
  if (fastify.events.endpoints.length === 0) return
  let timer: NodeJS.Timeout | undefined
  let sweeping: Promise<void> | undefined
  const sweep = async (): Promise<void> => {
    try {
      for (const expired of await fastify.store.verifications.claimExpired(new Date(), 100)) {
        await fastify.events.emit('verification.expired', { auth_id: expired.auth_id, verification_id: expired.id })
      }
    } catch {
      // The store is not answering: the next sweep tries again (the webhook sender logs outages).
    }
  }
  fastify.addHook('onReady', async () => {
    timer = setInterval(() => { sweeping ??= sweep().finally(() => { sweeping = undefined }) }, EXPIRY_SWEEP_MS)
    timer.unref()
  })
  fastify.addHook('onClose', async () => {
    clearInterval(timer)
    await sweeping
  })
}

/** Where the provider reports delivery: Twilio's StatusCallback, Flowroute's dlr_callback (needs PUBLIC_URL). */
function statusCallback (config: FastifyInstance['config']): { statusCallback?: string } {
  const { sms, publicUrl } = config
  if (publicUrl === undefined) return {}
  if (sms.provider === 'twilio') return { statusCallback: `${publicUrl}${TWILIO_STATUS_PATH}` }
  if (sms.provider === 'flowroute' && sms.flowroute.secretKey !== undefined) {
    return { statusCallback: `${publicUrl}${FLOWROUTE_STATUS_PATH}/${flowrouteReceiptToken(sms.flowroute.secretKey)}` }
  }
  return {}
}

/** How often expired verifications are looked for (only with webhook endpoints configured). */
const EXPIRY_SWEEP_MS = 1000

export default fp(verificationsPlugin, { name: 'verifications', dependencies: ['config', 'store', 'sms', 'jwt', 'metrics', 'events'] })
