import { SmsDeliveryError } from './types.js'

export const PROVIDER_TIMEOUT_MS = 5_000
const RETRYABLE_STATUSES = new Set([502, 503, 504])

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
 * POSTs to a provider within one deadline for all attempts (the request that waits on it stays
 * bounded). A refused connection or a 502/503/504 is tried once more: the provider did not take
 * the message. A timeout is not retried (the message may have gone out) and a 4xx never is.
 */
export async function postToProvider (provider: string, request: ProviderRequest): Promise<ProviderAnswer> {
  const signal = AbortSignal.timeout(request.timeoutMs ?? PROVIDER_TIMEOUT_MS)
  for (let attempt = 1; ; attempt++) {
    let response: Response
    try {
      response = await fetch(request.url, { method: 'POST', headers: request.headers, body: request.body, signal, redirect: 'error' })
    } catch (error) {
      if (signal.aborted) throw new SmsDeliveryError(`${provider} did not answer in time`)
      if (attempt === 1) continue
      throw new SmsDeliveryError(`${provider} is unreachable (${(error as Error).name})`)
    }
    const text = await response.text().catch(() => '')
    if (request.accepted(response.status)) return { status: response.status, json: parseJson(text) }
    if (RETRYABLE_STATUSES.has(response.status) && attempt === 1 && !signal.aborted) continue
    throw new SmsDeliveryError(`${provider} answered HTTP ${response.status}${providerErrorCode(parseJson(text))}`)
  }
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
