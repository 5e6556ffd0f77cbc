import { createHmac, timingSafeEqual } from 'node:crypto'
import { parse as parseYaml } from 'yaml'

/** What the service tells its webhooks about: ids and outcomes, never codes or tokens. */
export const EVENT_TYPES = [
  'verification.approved',
  'verification.failed',
  'verification.expired',
  'verification.canceled',
  'sms.delivery_failed',
  'token.revoked'
] as const
export type EventType = typeof EVENT_TYPES[number]

export interface WebhookEndpoint {
  id: string
  url: string
  /** The signing secret (Standard Webhooks `whsec_` + base64, or any text of at least 32 characters). */
  secret: string
  /** The event types it receives; all when it lists `*`. */
  events: ReadonlySet<string>
}

export class WebhooksFileError extends Error {
  constructor (readonly reason: string) {
    super(reason)
    this.name = 'WebhooksFileError'
  }
}

const ID = /^[a-z0-9][a-z0-9_-]{0,63}$/

/**
 * WEBHOOKS_FILE (YAML or JSON): `endpoints`, each `{id, url, secret, events}`. Refused as a whole
 * on any defect, naming the entry and the field, never a secret.
 */
export function parseWebhooks (text: string, options: { production: boolean }): WebhookEndpoint[] {
  let document: unknown
  try {
    document = parseYaml(text)
  } catch {
    throw new WebhooksFileError('is not valid YAML or JSON')
  }
  const entries = (document as { endpoints?: unknown } | null)?.endpoints
  if (!Array.isArray(entries)) throw new WebhooksFileError('must hold a list named endpoints')
  const seen = new Set<string>()
  return entries.map((entry: unknown, index) => {
    const fail = (why: string): never => { throw new WebhooksFileError(`endpoint ${index + 1}: ${why}`) }
    if (entry === null || typeof entry !== 'object') return fail('must be a mapping')
    const { id, url, secret, events } = entry as Record<string, unknown>
    if (typeof id !== 'string' || !ID.test(id)) return fail('id must be 1 to 64 characters of a-z, 0-9, "_" and "-"')
    if (seen.has(id)) return fail(`id "${id}" is used twice`)
    seen.add(id)
    let parsed: URL | undefined
    try {
      parsed = typeof url === 'string' ? new URL(url) : undefined
    } catch {}
    if (parsed === undefined || !['http:', 'https:'].includes(parsed.protocol)) return fail('url must be an http(s) URL')
    if (options.production && parsed.protocol !== 'https:') return fail('url must be https in production')
    if (typeof secret !== 'string' || secret.length < 32) return fail('secret must be at least 32 characters')
    if (!Array.isArray(events) || events.length === 0 || !events.every((type) => type === '*' || EVENT_TYPES.includes(type as EventType))) {
      return fail(`events must list some of ${EVENT_TYPES.join(', ')} (or "*")`)
    }
    return { id, url: parsed.toString(), secret, events: new Set(events as string[]) }
  })
}

export function wantsEvent (endpoint: WebhookEndpoint, type: string): boolean {
  return endpoint.events.has('*') || endpoint.events.has(type)
}

/** The key bytes of a secret: a Standard Webhooks `whsec_` secret is base64 after the prefix; any other is its UTF-8. */
function keyOf (secret: string): Buffer {
  return secret.startsWith('whsec_') ? Buffer.from(secret.slice(6), 'base64') : Buffer.from(secret, 'utf8')
}

/**
 * The Standard Webhooks signature: `v1,` + base64(HMAC-SHA256(key, `${id}.${timestamp}.${body}`)).
 * The id and the timestamp (seconds) are signed with the body, so a receiver refuses replays and stale deliveries.
 */
export function signWebhook (secret: string, id: string, timestamp: number, body: string): string {
  return `v1,${createHmac('sha256', keyOf(secret)).update(`${id}.${timestamp}.${body}`).digest('base64')}`
}

/** What a receiver does (the verification snippet in docs/events.md is this function): true for a fresh, authentic delivery. */
export function verifyWebhook (secret: string, headers: { id: string, timestamp: string, signature: string }, body: string, nowSeconds: number, toleranceSeconds = 300): boolean {
  const timestamp = Number(headers.timestamp)
  if (!Number.isSafeInteger(timestamp) || Math.abs(nowSeconds - timestamp) > toleranceSeconds) return false
  const expected = Buffer.from(signWebhook(secret, headers.id, timestamp, body))
  return headers.signature.split(' ').some((candidate) => {
    const given = Buffer.from(candidate)
    return given.length === expected.length && timingSafeEqual(given, expected)
  })
}

/** Exponential backoff: base × 2^(attempt−1), at most an hour, with ±20% jitter so retries of many deliveries spread. */
export function retryDelayMs (attempt: number, baseMs: number, random: () => number = Math.random): number {
  const plain = Math.min(baseMs * 2 ** Math.max(0, attempt - 1), 3_600_000)
  return Math.round(plain * (0.8 + 0.4 * random()))
}
