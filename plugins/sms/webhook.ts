import { createHmac } from 'node:crypto'
import { postToProvider } from './http.js'
import type { SmsMessage, SmsSender } from '../../lib/sms.js'

export const SIGNATURE_HEADER = 'x-tokenmint-signature'

/** `sha256=<hex HMAC-SHA256 of the raw body>`: what a receiver recomputes and compares in constant time. */
export function webhookSignature (secret: string, rawBody: string): string {
  return `sha256=${createHmac('sha256', secret).update(rawBody).digest('hex')}`
}

/** POSTs `{to, body, auth_id}` as JSON to SMS_WEBHOOK_URL, signed with SMS_WEBHOOK_SECRET; any 2xx is delivery. */
export function createWebhookSender (options: { url: string, secret: string, timeoutMs?: number }): SmsSender {
  return {
    provider: 'webhook',
    async send (message: SmsMessage) {
      const body = JSON.stringify({ to: message.to, body: message.body, auth_id: message.authId })
      await postToProvider('webhook', {
        url: options.url,
        headers: { 'content-type': 'application/json', [SIGNATURE_HEADER]: webhookSignature(options.secret, body) },
        body,
        accepted: (status) => status >= 200 && status < 300,
        ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs })
      })
    }
  }
}
