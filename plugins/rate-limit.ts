import { createRequire } from 'node:module'
import fp from 'fastify-plugin'
import fastifyRateLimit from '@fastify/rate-limit'
import type { Redis } from 'ioredis'
import type { FastifyInstance, FastifyRequest, onRequestAsyncHookHandler } from 'fastify'
import { FloodGuard } from '../lib/flood-guard.js'
import type { Rate } from '../lib/settings.js'
import { Problem, serviceUnavailable } from '../lib/problem.js'
import type { RateLimitBudget } from './metrics.js'

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

/** Who a request is counted as: its API client, its token's subject, or (anonymous) its address. */
export function callerKey (request: FastifyRequest): { key: string, budget: 'client' | 'subject' | 'address' } {
  const principal = request.principal
  if (principal?.kind === 'api_key') return { key: `client:${principal.client.id}`, budget: 'client' }
  if (principal?.kind === 'token') return { key: `sub:${principal.claims.sub}`, budget: 'subject' }
  return { key: `ip:${request.ip}`, budget: 'address' }
}

declare module 'fastify' {
  interface FastifyInstance {
    /**
     * A limit of its own for a group of routes, counted per caller (or by `keyOf`), for a route's
     * onRequest or preHandler list: the routes that share the hook share the budget, and a name
     * asked for again is the same budget (its first rate and key apply).
     */
    budget (name: Extract<RateLimitBudget, 'appverify' | 'sms_check' | 'sms_check_auth_id'>, rate: Rate, keyOf?: (request: FastifyRequest) => string): onRequestAsyncHookHandler
    /** Redis, when REDIS_URL is set: whether the shared counters can be reached now. */
    sharedCounters (): 'ok' | 'unreachable' | undefined
    /** Charges a failed authentication to the caller's address; a 429 problem once its budget is spent. */
    chargeFailedAuth (request: FastifyRequest): Promise<Problem | undefined>
  }
}

function limitedProblem (budget: RateLimitBudget, max: number, windowMs: number, ttlMs: number, ban: boolean): Problem {
  const retryAfter = String(Math.max(1, Math.ceil(ttlMs / 1000)))
  const limit = { budget, max, window_seconds: Math.round(windowMs / 1000) }
  return ban
    ? new Problem(403, 'rate_limit_banned', 'Too many requests over the limit; this client is blocked for now.', { headers: { 'retry-after': retryAfter }, extra: { limit } })
    : new Problem(429, 'rate_limited', `Too many requests for the ${budget} budget (${max} per ${limit.window_seconds} s); retry in ${retryAfter} s.`, { headers: { 'retry-after': retryAfter }, extra: { limit } })
}

/**
 * Limits that know who is calling. Every route is counted per caller after authentication: an
 * API client on its client budget, a token on its subject's, an anonymous request on its address's
 * (TRUST_PROXY-aware); a failed authentication is charged to the address. A local per-address
 * flood guard sits in front of everything. Route groups bring their own budgets through
 * `fastify.budget`. With REDIS_URL the counters are shared by every instance and fail closed.
 * Registered before any route: it hooks onRoute.
 */
async function rateLimitPlugin (fastify: FastifyInstance): Promise<void> {
  const { rateLimit, redisUrl } = fastify.config
  const { metrics } = fastify
  let store: (new (settings: unknown) => RateLimitStore) | undefined
  let sharedCounters = (): 'ok' | 'unreachable' | undefined => undefined
  if (redisUrl !== undefined) {
    // Loaded only with REDIS_URL, like the MongoDB driver: the memory-store default never needs it.
    const { Redis } = await import('ioredis')
    const redis = new Redis(redisUrl, {
      connectTimeout: 1_000,
      commandTimeout: 1_000,
      maxRetriesPerRequest: 1,
      enableOfflineQueue: false,
      lazyConnect: false
    })
    // ioredis reconnects by itself; without a listener an outage would crash the process. One line per change of state, not per retry.
    // A lost connection is the outage (a restart can be over before a reconnect fails and 'error' fires).
    let reachable = true
    let closing = false
    const down = (reason: string): void => {
      if (!reachable || closing) return
      reachable = false
      fastify.log.warn({ reason }, 'Redis is unreachable: routes with shared counters answer 503 until it is back')
    }
    // The error code only: the message names the host and port.
    redis.on('error', (error: Error & { code?: unknown }) => { down(typeof error.code === 'string' ? error.code : 'connection error') })
    redis.on('close', () => { down('connection closed') })
    redis.on('ready', () => {
      if (reachable) return
      reachable = true
      fastify.log.info('Redis is reachable again: shared counters are back')
    })
    sharedCounters = () => redis.status === 'ready' ? 'ok' : 'unreachable'
    fastify.addHook('onClose', async () => {
      closing = true
      redis.disconnect()
    })
    // Give Redis a moment to connect before the first request; if it is down we start anyway, failing closed.
    // Not events.once: it settles on the first 'error', such as a connect timeout while a busy process starts, which ioredis retries.
    fastify.addHook('onReady', async () => {
      if (redis.status === 'ready') return
      await new Promise<void>((resolve) => {
        const done = (): void => { clearTimeout(timer); redis.off('ready', done); resolve() }
        const timer = setTimeout(done, REDIS_READY_WAIT_MS).unref()
        redis.on('ready', done)
      })
    })
    // @fastify/rate-limit instantiates `store` itself with its merged settings.
    store = class {
      constructor (settings: { continueExceeding: boolean, exponentialBackoff: boolean }) {
        return new FailClosedStore(new RedisStore(settings.continueExceeding, settings.exponentialBackoff, redis, 'tokenmint-rl-'))
      }
    } as never
  }

  fastify.decorate('sharedCounters', () => sharedCounters())

  const flood = new FloodGuard(rateLimit.flood.max, rateLimit.flood.windowMs)
  fastify.addHook('onRequest', async (request) => {
    if (request.url.startsWith('/health/')) return
    const retryAfter = flood.hit(request.ip)
    if (retryAfter !== undefined) {
      metrics.rateLimited('flood')
      throw limitedProblem('flood', rateLimit.flood.max, rateLimit.flood.windowMs, retryAfter * 1000, false)
    }
  })
  // Swagger UI's files are not counted (the flood guard still sees them): docs stay up when Redis is not.
  fastify.addHook('onRoute', (route) => {
    if (route.url.startsWith('/docs')) route.config = { ...route.config, rateLimit: false }
  })

  const budgets = { client: rateLimit.client, subject: rateLimit.subject, address: { max: rateLimit.max, windowMs: rateLimit.windowMs } }
  // An API client's own budget (clients file) when it has one; looked up per request, so a reload applies at once.
  const budgetOf = (key: string): Rate => key.startsWith('client:')
    ? (fastify.clients.byId(key.slice('client:'.length))?.rate ?? budgets.client)
    : key.startsWith('sub:') ? budgets.subject : budgets.address
  await fastify.register(fastifyRateLimit, {
    global: true,
    keyGenerator: (request) => callerKey(request).key,
    max: (_request, key) => budgetOf(key).max,
    timeWindow: (_request, key) => budgetOf(key).windowMs,
    ...(rateLimit.ban === undefined ? {} : { ban: rateLimit.ban }),
    ...(store === undefined ? {} : { store }),
    skipOnError: false,
    enableDraftSpec: true,
    onExceeded: (request) => { metrics.rateLimited(callerKey(request).budget) },
    errorResponseBuilder: (request, context) => {
      const { key, budget } = callerKey(request)
      return limitedProblem(budget, context.max, budgetOf(key).windowMs, context.ttl, context.ban)
    }
  })

  // createRateLimit rather than rateLimit(): @fastify/rate-limit runs one of its own hooks per request, and a route may need two budgets.
  // One hook per budget name: route files that name the same budget (the check routes and their Flowroute mount) share its counters.
  const named = new Map<string, onRequestAsyncHookHandler>()
  fastify.decorate('budget', (name: Extract<RateLimitBudget, 'appverify' | 'sms_check' | 'sms_check_auth_id'>, rate: Rate, keyOf?: (request: FastifyRequest) => string): onRequestAsyncHookHandler => {
    const existing = named.get(name)
    if (existing !== undefined) return existing
    const check = fastify.createRateLimit({ max: rate.max, timeWindow: rate.windowMs, keyGenerator: keyOf ?? ((request) => callerKey(request).key) })
    const hook: onRequestAsyncHookHandler = async (request, reply) => {
      const result = await check(request)
      if (result.isAllowed) return
      reply.header('ratelimit-limit', result.max).header('ratelimit-remaining', result.remaining).header('ratelimit-reset', result.ttlInSeconds)
      if (!result.isExceeded) return
      metrics.rateLimited(name)
      throw limitedProblem(name, rate.max, rate.windowMs, result.ttl, result.isBanned)
    }
    named.set(name, hook)
    return hook
  })

  const failedAuth = fastify.createRateLimit({ max: rateLimit.max, timeWindow: rateLimit.windowMs, keyGenerator: (request) => `auth-failed:${request.ip}` })
  fastify.decorate('chargeFailedAuth', async (request: FastifyRequest) => {
    const result = await failedAuth(request)
    if (result.isAllowed || !result.isExceeded) return undefined
    metrics.rateLimited('address')
    return limitedProblem('address', rateLimit.max, rateLimit.windowMs, result.ttl, result.isBanned)
  })
}

export default fp(rateLimitPlugin, { name: 'rate-limit', dependencies: ['config', 'metrics', 'clients'] })
