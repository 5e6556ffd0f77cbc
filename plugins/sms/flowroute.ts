import { createHmac } from 'node:crypto'
import { basicAuth, postToProvider } from './http.js'
import { SmsDeliveryError } from '../../lib/sms.js'
import type { SmsMessage, SmsSender } from '../../lib/sms.js'

export interface FlowrouteOptions {
  accessKey: string
  secretKey: string
  /** The Flowroute number the SMS comes from (11-digit NANP, "+" optional). */
  number: string
  baseUrl: string
  timeoutMs?: number
}

const JSON_API = 'application/vnd.api+json'

/**
 * Flowroute Messaging API v2.1: POST {base}/v2.1/messages with HTTP Basic (access key : secret
 * key), a JSON:API body `{to, from, body, dlr_callback?}` with numbers as digits without "+",
 * answered by 202 `{"data": {"type": "message", "id": "mdr2-..."}}`. The mdr2 id is what
 * Flowroute's delivery receipts name.
 */
export function createFlowrouteSender (options: FlowrouteOptions): SmsSender {
  return {
    provider: 'flowroute',
    async send (message: SmsMessage) {
      const answer = await postToProvider('flowroute', {
        url: `${options.baseUrl}/v2.1/messages`,
        headers: {
          authorization: basicAuth(options.accessKey, options.secretKey),
          'content-type': JSON_API,
          accept: JSON_API
        },
        body: JSON.stringify({
          to: digits(message.to),
          from: digits(options.number),
          body: message.body,
          ...(message.statusCallback === undefined ? {} : { dlr_callback: message.statusCallback })
        }),
        accepted: (status) => status === 202 || status === 200 || status === 201,
        ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs })
      })
      const id = (answer.json as { data?: { id?: unknown } } | undefined)?.data?.id
      if (typeof id !== 'string') throw new SmsDeliveryError('flowroute accepted the request without a message id')
      return id
    }
  }
}

function digits (number: string): string {
  return number.replace(/^\+/, '')
}

/** Where Flowroute posts delivery receipts (routes/sms-status), followed by `/` and the receipt token. */
export const FLOWROUTE_STATUS_PATH = '/v1/sms/status/flowroute'

/**
 * Flowroute does not sign its delivery receipts, so the callback URL carries a capability: an
 * HMAC-SHA256 of a fixed label keyed with the Flowroute secret key (base64url, 43 characters). Only
 * Flowroute (which is given the URL with each message) and this service know it; rotating the
 * secret key rotates it.
 */
export function flowrouteReceiptToken (secretKey: string): string {
  return createHmac('sha256', secretKey).update('tokenmint flowroute delivery receipt v1').digest('base64url')
}
