import { renderAuthMessage } from './otp.js'
import { smsLength } from './sms-text.js'
import type { Config } from './config-types.js'

/** Twilio's Messages resource refuses bodies over 1,600 characters (error 21617). */
export const TWILIO_MAX_BODY = 1600

/**
 * Several processes (WORKERS) must share what makes the service correct: the store (users, codes,
 * revocations, the DPoP replay cache) and the rate-limit counters. The memory store and the local
 * counters are per process, so they are refused. (The flood guard and the verified-signature cache
 * stay per process by design: revocation is checked in the shared store on every request.)
 */
export function workerProblems (config: Config): string[] {
  if (config.workers <= 1) return []
  return [
    ...(config.mongodbUrl === undefined ? [`WORKERS: ${config.workers} processes need MONGODB_URL; the memory store is per process, so each would have its own users, codes and revocations`] : []),
    ...(config.redisUrl === undefined ? [`WORKERS: ${config.workers} processes need REDIS_URL; without it each process would count rate limits on its own, multiplying every budget`] : [])
  ]
}

/**
 * The rule that needs several settings at once and cannot live in the settings table: the longest
 * AUTH_MESSAGE a code can render to is refused over the provider's limit and warned about over one segment.
 */
export function messageChecks (config: Config): { problems: string[], warnings: string[] } {
  const { sms, otp } = config
  const rendered = renderAuthMessage(sms.authMessage, '0'.repeat(otp.codeLength), sms.orgName)
  if (sms.provider === 'twilio' && rendered.length > TWILIO_MAX_BODY) {
    return { problems: [`AUTH_MESSAGE: renders to ${rendered.length} characters; Twilio accepts at most ${TWILIO_MAX_BODY}`], warnings: [] }
  }
  const length = smsLength(rendered)
  return {
    problems: [],
    warnings: length.units > length.singleSegmentLimit
      ? [`AUTH_MESSAGE renders to ${length.units} ${length.encoding} units, more than one SMS segment (${length.singleSegmentLimit}): each message is billed as several`]
      : []
  }
}
