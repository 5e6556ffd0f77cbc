import { once } from 'node:events'
import { createRequire } from 'node:module'
import fp from 'fastify-plugin'
import fastifyRateLimit from '@fastify/rate-limit'
import { Redis } from 'ioredis'
import type { FastifyInstance } from 'fastify'
import { Problem, serviceUnavailable } from '../lib/problem.js'

type IncrCallback = (error: Error | null, result?: { current: number, ttl: number }) => void
interface RateLimitStore {
  incr (key: string, callback: IncrCallback, timeWindow: number, max: number): void
  child (routeOptions: unknown): RateLimitStore
}

// @fastify/rate-limit does not export its Redis store; we wrap it rather than copy its Lua.
const RedisStore = createRequire(import.meta.url)('@fastify/rate-limit/store/RedisStore.js') as new (
  continueExceeding: boolean, exponentialBackoff: boolean, redis: Redis, key: string
) => RateLimitStore

const REDIS_READY_WAIT_MS = 2_000

/** Fails closed: when Redis cannot count, the request gets 503 instead of passing unlimited. */
class FailClosedStore implements RateLimitStore {
  constructor (private readonly inner: RateLimitStore) {}

  incr (key: string, callback: IncrCallback, timeWindow: number, max: number): void {
    this.inner.incr(key, (error, result) => {
      if (error !== null) callback(serviceUnavailable('rate_limit_unavailable', 'Rate limiting is temporarily unavailable; try again shortly.'))
      else callback(null, result)
    }, timeWindow, max)
  }

  child (routeOptions: unknown): RateLimitStore {
    return new FailClosedStore(this.inner.child(routeOptions))
  }
}

/**
 * Global per-client limit (RATE_LIMIT_MAX per RATE_LIMIT_WINDOW), per-route overrides through
 * `config.rateLimit`, optional ban, counters in Redis when REDIS_URL is set so several
 * instances share one budget. Registered before any route: it hooks onRoute.
 */
async function rateLimitPlugin (fastify: FastifyInstance): Promise<void> {
  const { rateLimit, redisUrl } = fastify.config
  let store: (new (settings: unknown) => RateLimitStore) | undefined
  if (redisUrl !== undefined) {
    const redis = new Redis(redisUrl, {
      connectTimeout: 1_000,
      commandTimeout: 1_000,
      maxRetriesPerRequest: 1,
      enableOfflineQueue: false,
      lazyConnect: false
    })
    // ioredis reconnects by itself; without a listener an outage would crash the process.
    redis.on('error', (error: Error) => { fastify.log.warn({ reason: error.message }, 'Redis is unreachable') })
    fastify.addHook('onClose', async () => { redis.disconnect() })
    // Give Redis a moment to connect before the first request; if it is down we start anyway, failing closed.
    fastify.addHook('onReady', async () => {
      if (redis.status === 'ready') return
      await Promise.race([once(redis, 'ready').catch(() => {}), new Promise((resolve) => setTimeout(resolve, REDIS_READY_WAIT_MS).unref())])
    })
    // @fastify/rate-limit instantiates `store` itself with its merged settings.
    store = class {
      constructor (settings: { continueExceeding: boolean, exponentialBackoff: boolean }) {
        return new FailClosedStore(new RedisStore(settings.continueExceeding, settings.exponentialBackoff, redis, 'tokenmint-rl-'))
      }
    } as never
  }

  await fastify.register(fastifyRateLimit, {
    global: true,
    max: rateLimit.max,
    timeWindow: rateLimit.windowMs,
    ...(rateLimit.ban === undefined ? {} : { ban: rateLimit.ban }),
    ...(store === undefined ? {} : { store }),
    skipOnError: false,
    // Per-route limits bring their own onExceeded (their budget's name); everything else is the global budget.
    onExceeded: () => { fastify.metrics.rateLimited('global') },
    errorResponseBuilder: (_request, context) => context.ban
      ? new Problem(403, 'rate_limit_banned', 'Too many requests over the limit; this client is blocked for now.', {
        headers: { 'retry-after': String(Math.max(1, Math.ceil(context.ttl / 1000))) }
      })
      : new Problem(429, 'rate_limited', `Too many requests; retry in ${context.after}.`, {
        headers: { 'retry-after': String(Math.max(1, Math.ceil(context.ttl / 1000))) }
      })
  })
}

export default fp(rateLimitPlugin, { name: 'rate-limit', dependencies: ['config', 'metrics'] })
