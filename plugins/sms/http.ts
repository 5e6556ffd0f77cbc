import { SmsDeliveryError } from '../../lib/sms.js'

export const PROVIDER_TIMEOUT_MS = 5_000
const RETRYABLE_STATUSES = new Set([502, 503, 504])
/** The connection broke after the request may have been written: the provider may have taken it. */
const MID_REQUEST_FAILURES = new Set(['ECONNRESET', 'EPIPE', 'UND_ERR_SOCKET', 'UND_ERR_CLOSED'])

export interface ProviderRequest {
  url: string
  headers: Record<string, string>
  body: string
  /** Statuses that mean "accepted" (Flowroute 202, Twilio 201). */
  accepted: (status: number) => boolean
  timeoutMs?: number
}

export interface ProviderAnswer {
  status: number
  json: unknown
}

/**
 * POSTs to a provider within one deadline for everything: connecting, every attempt and reading
 * the body. The deadline is our own referenced timer raced against the exchange, so a provider
 * that sends headers and then stalls cannot hold the caller past it, whatever happens to the
 * fetch's abort signal. Retried once, and only when the provider provably did not take the
 * message: the connection was refused before any byte was written, or it answered 502/503/504.
 * A reset after the request went out, a timeout, a redirect or any other answer is final.
 */
export async function postToProvider (provider: string, request: ProviderRequest): Promise<ProviderAnswer> {
  const controller = new AbortController()
  let timer: NodeJS.Timeout | undefined
  const deadline = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => {
      reject(new SmsDeliveryError(`${provider} did not answer in time`))
      controller.abort()
    }, request.timeoutMs ?? PROVIDER_TIMEOUT_MS)
  })
  try {
    return await Promise.race([exchange(provider, request, controller.signal), deadline])
  } finally {
    clearTimeout(timer)
    // Whatever is still in flight (a stalled body) is released.
    controller.abort()
  }
}

async function exchange (provider: string, request: ProviderRequest, signal: AbortSignal): Promise<ProviderAnswer> {
  for (let attempt = 1; ; attempt++) {
    let response: Response
    try {
      response = await fetch(request.url, { method: 'POST', headers: request.headers, body: request.body, signal, redirect: 'manual' })
    } catch (error) {
      if (signal.aborted) throw new SmsDeliveryError(`${provider} did not answer in time`)
      const code = networkErrorCode(error)
      if (code === 'ECONNREFUSED' && attempt === 1) continue
      throw new SmsDeliveryError(MID_REQUEST_FAILURES.has(code)
        ? `${provider} failed mid-request (${code}); not retried, the message may have been taken`
        : `${provider} is unreachable (${code})`)
    }
    let text: string
    try {
      text = await response.text()
    } catch (error) {
      if (signal.aborted) throw new SmsDeliveryError(`${provider} did not answer in time`)
      throw new SmsDeliveryError(`${provider} broke off its answer (${networkErrorCode(error)})`)
    }
    if (request.accepted(response.status)) return { status: response.status, json: parseJson(text) }
    if (RETRYABLE_STATUSES.has(response.status) && attempt === 1) continue
    const redirect = response.status >= 300 && response.status < 400 ? ' (redirects are not followed)' : ''
    throw new SmsDeliveryError(`${provider} answered HTTP ${response.status}${redirect}${providerErrorCode(parseJson(text))}`)
  }
}

/** The system error code behind a failed fetch (ECONNREFUSED, ECONNRESET, UND_ERR_SOCKET, ...): log-safe. */
function networkErrorCode (error: unknown): string {
  const cause = (error as { cause?: { code?: unknown, errors?: Array<{ code?: unknown }> } }).cause
  const code = cause?.code ?? cause?.errors?.[0]?.code
  return typeof code === 'string' && /^[A-Z0-9_]+$/.test(code) ? code : 'network error'
}

export function basicAuth (user: string, password: string): string {
  return `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`
}

function parseJson (text: string): unknown {
  try {
    return JSON.parse(text)
  } catch {
    return undefined
  }
}

/** Twilio's numeric `code`, or Flowroute's first error status: enough to diagnose, never message text. */
function providerErrorCode (json: unknown): string {
  if (json === null || typeof json !== 'object') return ''
  const code = (json as { code?: unknown }).code
  if (typeof code === 'number') return ` (code ${code})`
  return ''
}
