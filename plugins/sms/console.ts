import type { SmsMessage, SmsSender } from '../../lib/sms.js'

export type Write = (text: string) => void

/**
 * Development only (config refuses it in production): prints the SMS to stdout through its own
 * write, never through the logger, whose redaction keeps codes out of logs.
 */
export function createConsoleSender (write: Write = (text) => { process.stdout.write(text) }): SmsSender {
  return {
    provider: 'console',
    async send (message: SmsMessage) {
      write(`\n[tokenmint sms] to ${message.to} (auth_id ${JSON.stringify(message.authId)}):\n${message.body}\n\n`)
    }
  }
}
