import type { SmsProviderName } from './config.js'

/** One SMS: the E.164 recipient, the rendered text (holds the code) and the verification it belongs to. */
export interface SmsMessage {
  to: string
  body: string
  authId: string
  /** Where the provider reports delivery (Twilio's StatusCallback), when the service has a public URL. */
  statusCallback?: string
}

export interface SmsSender {
  readonly provider: SmsProviderName
  /**
   * Resolves once the provider accepted the message, with the provider's id for it when it gives
   * one (status callbacks name it); throws SmsDeliveryError otherwise.
   */
  send (message: SmsMessage): Promise<string | undefined>
}

/** The provider refused, failed or did not answer in time. `reason` is log-safe: never the message text. */
export class SmsDeliveryError extends Error {
  readonly reason: string
  constructor (reason: string) {
    super(`SMS delivery failed: ${reason}`)
    this.name = 'SmsDeliveryError'
    this.reason = reason
  }
}
