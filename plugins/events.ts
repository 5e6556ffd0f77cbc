import { randomUUID } from 'node:crypto'
import { readFileSync } from 'node:fs'
import fp from 'fastify-plugin'
import type { FastifyInstance } from 'fastify'
import { ConfigError } from '../lib/config.js'
import type { EventType, WebhookEndpoint } from '../lib/webhooks.js'
import { parseWebhooks, retryDelayMs, signWebhook, wantsEvent, WebhooksFileError } from '../lib/webhooks.js'
import type { WebhookDeliveryRecord } from '../lib/store.js'
import { VERSION } from '../lib/version.js'

export interface EventService {
  /**
   * Queues the event for every endpoint that wants it (in the store, so it survives a restart)
   * and wakes the sender. Never throws: an event that cannot be queued is logged, and the request
   * that caused it is not failed for it.
   */
  emit (type: EventType, data: Record<string, string>): Promise<void>
  /** The configured endpoints (ids and event types only). */
  readonly endpoints: readonly WebhookEndpoint[]
}

declare module 'fastify' {
  interface FastifyInstance {
    events: EventService
  }
}

const TICK_MS = 250
const LEASE_MS = 30_000
const ATTEMPT_TIMEOUT_MS = 5_000
const BATCH = 10
/** A finished delivery stays in the log this long. */
const LOG_RETENTION_MS = 7 * 86_400_000

/** Why no answer came, in one word for the log (never a host or a stack). */
function failureOf (error: unknown): string {
  const cause = (error as { cause?: { code?: unknown } }).cause
  if ((error as { name?: unknown }).name === 'TimeoutError') return 'timeout'
  if (cause?.code === 'ECONNREFUSED') return 'connection_refused'
  if (typeof cause?.code === 'string') return cause.code.toLowerCase()
  return 'network_error'
}

/**
 * Signed webhooks (Standard Webhooks headers): at-least-once delivery from a queue in the store,
 * exponential backoff to WEBHOOK_MAX_ATTEMPTS, an idempotency key (`webhook-id`, the event id) per
 * event, a delivery log. Any instance sharing the store may send a queued delivery; a lease keeps
 * two from sending it at once.
 */
async function eventsPlugin (fastify: FastifyInstance): Promise<void> {
  const { config, store } = fastify
  const { file, maxAttempts, retryBaseMs } = config.webhooks
  let endpoints: WebhookEndpoint[] = []
  if (file !== undefined) {
    try {
      endpoints = parseWebhooks(readFileSync(file, 'utf8'), { production: config.nodeEnv === 'production' })
    } catch (error) {
      throw new ConfigError([`WEBHOOKS_FILE ${error instanceof WebhooksFileError ? error.message : 'cannot be read'}`])
    }
  }
  const byId = new Map(endpoints.map((endpoint) => [endpoint.id, endpoint]))

  let timer: NodeJS.Timeout | undefined
  let running: Promise<void> | undefined
  let closing = false
  let storeDown = false

  const attempt = async (delivery: WebhookDeliveryRecord): Promise<void> => {
    const endpoint = byId.get(delivery.endpoint_id)
    const now = new Date()
    const purgeAt = new Date(now.getTime() + LOG_RETENTION_MS)
    if (endpoint === undefined) {
      // The endpoint left the configuration: nothing to send to.
      await store.webhookDeliveries.settle(delivery.id, { delivered: false, result: 'endpoint_removed', at: now, retryAt: null, purgeAt })
      return
    }
    const timestamp = Math.floor(now.getTime() / 1000)
    let result: string
    let delivered = false
    try {
      const response = await fetch(endpoint.url, {
        method: 'POST',
        redirect: 'manual',
        signal: AbortSignal.timeout(ATTEMPT_TIMEOUT_MS),
        headers: {
          'content-type': 'application/json',
          'user-agent': `tokenmint/${VERSION}`,
          'webhook-id': delivery.event_id,
          'webhook-timestamp': String(timestamp),
          'webhook-signature': signWebhook(endpoint.secret, delivery.event_id, timestamp, delivery.payload)
        },
        body: delivery.payload
      })
      await response.arrayBuffer().catch(() => undefined)
      result = String(response.status)
      delivered = response.status >= 200 && response.status < 300
    } catch (error) {
      result = failureOf(error)
    }
    const attempts = delivery.attempts + 1
    const retryAt = delivered || attempts >= maxAttempts ? null : new Date(Date.now() + retryDelayMs(attempts, retryBaseMs))
    await store.webhookDeliveries.settle(delivery.id, { delivered, result, at: now, retryAt, purgeAt })
    if (!delivered && retryAt === null) fastify.log.warn({ endpoint: endpoint.id, event: delivery.event_type, attempts, result }, 'webhook delivery failed for good')
  }

  const tick = async (): Promise<void> => {
    try {
      for (;;) {
        const due = await store.webhookDeliveries.claimDue(new Date(), LEASE_MS, BATCH)
        if (storeDown) {
          storeDown = false
          fastify.log.info('webhook sender: the store answers again')
        }
        if (due.length === 0 || closing) return
        await Promise.all(due.map(attempt))
      }
    } catch {
      if (!storeDown) fastify.log.warn('webhook sender: the store is not answering; deliveries wait')
      storeDown = true
    }
  }

  /** Runs one sweep at a time; a wake-up during a sweep is answered by the next tick. */
  const wake = (): void => {
    if (running !== undefined || closing) return
    running = tick().finally(() => { running = undefined })
  }

  const events: EventService = {
    endpoints,
    async emit (type, data) {
      const targets = endpoints.filter((endpoint) => wantsEvent(endpoint, type))
      if (targets.length === 0) return
      const event = { id: `evt_${randomUUID().replaceAll('-', '')}`, type, created_at: new Date().toISOString(), data }
      const payload = JSON.stringify(event)
      const now = new Date()
      try {
        await store.webhookDeliveries.enqueue(targets.map((endpoint) => ({
          id: `${event.id}:${endpoint.id}`,
          event_id: event.id,
          event_type: type,
          endpoint_id: endpoint.id,
          payload,
          status: 'pending',
          attempts: 0,
          next_attempt_at: now,
          created_at: now,
          purge_at: new Date(now.getTime() + LOG_RETENTION_MS + 86_400_000)
        })))
        wake()
      } catch {
        fastify.log.error({ event: type }, 'an event could not be queued (the store is not answering); it is lost')
      }
    }
  }
  fastify.decorate('events', events)

  if (endpoints.length === 0) return
  fastify.addHook('onReady', async () => {
    timer = setInterval(wake, TICK_MS)
    timer.unref()
    wake()
  })
  fastify.addHook('onClose', async () => {
    closing = true
    clearInterval(timer)
    // An attempt under way finishes (or times out) and is settled; anything else waits in the queue.
    await running
  })
}

export default fp(eventsPlugin, { name: 'events', dependencies: ['config', 'store'] })
