import { renderAuthMessage } from './otp.js'
import { smsLength } from './sms-text.js'
import type { Config } from './config-types.js'

/** Shortest accepted HMAC keys, in characters: as strong as JWT_SECRET's 32 bytes when random. */
export const MIN_SECRET_LENGTH = 32
/** Twilio's Messages resource refuses bodies over 1,600 characters (error 21617). */
export const TWILIO_MAX_BODY = 1600

/** Everything production refuses: missing secrets and insecure development defaults. */
export function productionProblems (config: Config): string[] {
  const missing: string[] = []
  if (config.apiKeys.length === 0) missing.push('API_KEYS is required in production')
  if (config.mongodbUrl === undefined) missing.push('MONGODB_URL is required in production (the memory store loses data on restart)')
  if (config.jwt.algorithm === 'HS256' && config.jwt.keysFile === undefined && config.jwt.secret.length === 0) {
    missing.push('JWT_SECRET (or JWT_KEYS_FILE) is required in production')
  }
  if (config.jwt.algorithm !== 'HS256' && config.jwt.keysFile === undefined) {
    missing.push(`JWT_KEYS_FILE is required in production for ${config.jwt.algorithm}`)
  }
  if (config.otp.pepper === '') missing.push('OTP_PEPPER is required in production')
  if (config.appVerify.apiKey === '') missing.push('APPVERIFY_API_KEY is required in production')
  if (config.appVerify.customerId === '') missing.push('APPVERIFY_CUSTOMER_ID is required in production')
  if (config.sms.provider === 'console') missing.push('SMS_PROVIDER=console prints codes and is refused in production')
  missing.push(...providerProblems(config, true))
  return missing
}

const FLOWROUTE_NUMBER = /^\+?1[2-9]\d{2}[2-9]\d{6}$/
const TWILIO_ACCOUNT_SID = /^AC[0-9a-fA-F]{32}$/
export const TWILIO_MESSAGING_SERVICE = /^MG[0-9a-fA-F]{32}$/
const E164 = /^\+[1-9]\d{6,14}$/
const ALPHANUMERIC_SENDER = /^(?=.*[A-Za-z])[A-Za-z0-9 ]{1,11}$/

export function providerProblems (config: Config, production: boolean): string[] {
  const problems: string[] = []
  const { sms } = config
  const need = (name: string, value: string | undefined): void => {
    if (value === undefined || value === '') problems.push(`${name} is required when SMS_PROVIDER=${sms.provider}`)
  }
  if (sms.provider === 'webhook') {
    need('SMS_WEBHOOK_URL', sms.webhook.url)
    need('SMS_WEBHOOK_SECRET', sms.webhook.secret)
  } else if (sms.provider === 'flowroute') {
    need('FLOWROUTE_ACCESS_KEY', sms.flowroute.accessKey)
    need('FLOWROUTE_SECRET_KEY', sms.flowroute.secretKey)
    need('FLOWROUTE_NUMBER', sms.flowroute.number)
    const number = sms.flowroute.number
    if (number !== undefined && !FLOWROUTE_NUMBER.test(number)) problems.push('FLOWROUTE_NUMBER: must be an 11-digit NANP number such as 12065550100 ("+" optional)')
  } else if (sms.provider === 'twilio') {
    need('TWILIO_ACCOUNT_SID', sms.twilio.accountSid)
    need('TWILIO_AUTH_TOKEN', sms.twilio.authToken)
    need('TWILIO_FROM', sms.twilio.from)
    const { accountSid, from } = sms.twilio
    if (accountSid !== undefined && !TWILIO_ACCOUNT_SID.test(accountSid)) problems.push('TWILIO_ACCOUNT_SID: must be "AC" followed by 32 hexadecimal digits')
    if (from !== undefined && !(E164.test(from) || TWILIO_MESSAGING_SERVICE.test(from) || ALPHANUMERIC_SENDER.test(from))) {
      problems.push('TWILIO_FROM: must be an E.164 number (+12065550100), a messaging service SID (MG + 32 hex digits) or an alphanumeric sender ID (up to 11 letters, digits and spaces)')
    }
  }
  if (production) {
    for (const [name, url] of [['SMS_WEBHOOK_URL', sms.webhook.url], ['FLOWROUTE_BASE_URL', sms.flowroute.baseUrl], ['TWILIO_BASE_URL', sms.twilio.baseUrl]] as const) {
      if (url !== undefined && url.startsWith('http:')) problems.push(`${name} must use https in production`)
    }
  }
  return problems
}

/** The longest AUTH_MESSAGE a code can render to: refused over the provider's limit, warned about over one segment. */
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
