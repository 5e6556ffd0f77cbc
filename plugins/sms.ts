import fp from 'fastify-plugin'
import type { FastifyInstance } from 'fastify'
import type { Config } from '../lib/config.js'
import { createConsoleSender } from './sms/console.js'
import type { Write } from './sms/console.js'
import { createFlowrouteSender } from './sms/flowroute.js'
import { createTwilioSender } from './sms/twilio.js'
import type { SmsSender } from '../lib/sms.js'
import { createWebhookSender } from './sms/webhook.js'

declare module 'fastify' {
  interface FastifyInstance {
    sms: SmsSender
  }
}

/** The sender SMS_PROVIDER names; loadConfig already required its settings. */
export function createSmsSender (config: Pick<Config, 'nodeEnv' | 'sms'>, write?: Write): SmsSender {
  const { sms } = config
  switch (sms.provider) {
    case 'console':
      // Defence in depth: loadConfig refuses it in production too.
      if (config.nodeEnv === 'production') throw new Error('SMS_PROVIDER=console is refused in production')
      return createConsoleSender(write)
    case 'webhook':
      return createWebhookSender({ url: required(sms.webhook.url), secret: required(sms.webhook.secret) })
    case 'flowroute':
      return createFlowrouteSender({
        accessKey: required(sms.flowroute.accessKey),
        secretKey: required(sms.flowroute.secretKey),
        number: required(sms.flowroute.number),
        baseUrl: sms.flowroute.baseUrl
      })
    case 'twilio':
      return createTwilioSender({
        accountSid: required(sms.twilio.accountSid),
        authToken: required(sms.twilio.authToken),
        from: required(sms.twilio.from),
        baseUrl: sms.twilio.baseUrl
      })
  }
}

function required (value: string | undefined): string {
  if (value === undefined || value === '') throw new Error('SMS provider setting is missing')
  return value
}

/** `fastify.sms`: the configured SMS provider, each send counted by result. */
async function smsPlugin (fastify: FastifyInstance): Promise<void> {
  const sender = createSmsSender(fastify.config)
  const { metrics } = fastify
  fastify.decorate('sms', {
    provider: sender.provider,
    async send (message) {
      let messageId: string | undefined
      try {
        messageId = await sender.send(message)
      } catch (error) {
        metrics.smsSend(sender.provider, 'failed')
        throw error
      }
      metrics.smsSend(sender.provider, 'accepted')
      return messageId
    }
  } satisfies SmsSender)
}

export default fp(smsPlugin, { name: 'sms', dependencies: ['config', 'metrics'] })
