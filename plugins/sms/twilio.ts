import { TWILIO_MESSAGING_SERVICE } from '../../lib/settings.js'
import { basicAuth, postToProvider } from './http.js'
import { SmsDeliveryError } from '../../lib/sms.js'
import type { SmsMessage, SmsSender } from '../../lib/sms.js'

export interface TwilioOptions {
  accountSid: string
  authToken: string
  /** E.164 number or alphanumeric sender ID (sent as From), or a messaging service SID MG… (sent as MessagingServiceSid). */
  from: string
  baseUrl: string
  timeoutMs?: number
}

/**
 * Twilio Messages API: POST {base}/2010-04-01/Accounts/{AccountSid}/Messages.json, form-encoded
 * To, From (or MessagingServiceSid) and Body, HTTP Basic (account SID : auth token), answered by 201 with the message `sid`.
 */
export function createTwilioSender (options: TwilioOptions): SmsSender {
  return {
    provider: 'twilio',
    async send (message: SmsMessage) {
      const answer = await postToProvider('twilio', {
        url: `${options.baseUrl}/2010-04-01/Accounts/${encodeURIComponent(options.accountSid)}/Messages.json`,
        headers: {
          authorization: basicAuth(options.accountSid, options.authToken),
          'content-type': 'application/x-www-form-urlencoded',
          accept: 'application/json'
        },
        body: new URLSearchParams({
          To: message.to,
          [TWILIO_MESSAGING_SERVICE.test(options.from) ? 'MessagingServiceSid' : 'From']: options.from,
          Body: message.body,
          ...(message.statusCallback === undefined ? {} : { StatusCallback: message.statusCallback })
        }).toString(),
        accepted: (status) => status === 201 || status === 200,
        ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs })
      })
      const sid = (answer.json as { sid?: unknown } | undefined)?.sid
      if (typeof sid !== 'string') throw new SmsDeliveryError('twilio accepted the request without a message sid')
      return sid
    }
  }
}
