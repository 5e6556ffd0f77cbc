import fp from 'fastify-plugin'
import { collectDefaultMetrics, Counter, Histogram, Registry } from 'prom-client'
import type { FastifyInstance, FastifyRequest } from 'fastify'

export type TokenKind = 'access' | 'app_verify' | 'verified_phone' | 'refresh'
export type VerificationOutcome = 'started' | 'resent' | 'approved' | 'wrong_code' | 'expired' | 'exhausted' | 'canceled'
export type RateLimitBudget = 'client' | 'subject' | 'address' | 'flood' | 'appverify' | 'sms_check' | 'sms_check_auth_id' | 'login'
export type Dependency = 'store' | 'redis'

/** What the service counts. Labels are fixed words and route patterns: never a phone number, id, key or raw URL. */
export interface Metrics {
  readonly registry: Registry
  tokenIssued (kind: TokenKind): void
  verification (outcome: VerificationOutcome): void
  smsSend (provider: string, result: 'accepted' | 'failed'): void
  rateLimited (budget: RateLimitBudget): void
  dependencyError (dependency: Dependency): void
  /** A refresh token presented a second time: its session was ended. */
  refreshReuse (): void
}

declare module 'fastify' {
  interface FastifyInstance {
    metrics: Metrics
  }
}

/** Request latency buckets in seconds: token routes answer in about a millisecond, SMS sends in up to ten seconds. */
const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]

/** The per-request latency histogram the plugin observes on every response (also timed by npm run bench). */
export function createRequestHistogram (registry: Registry): Histogram<'route' | 'method' | 'status_code'> {
  return new Histogram({
    name: 'tokenmint_http_request_duration_seconds',
    help: 'HTTP requests by route pattern, method and status, with their latency',
    labelNames: ['route', 'method', 'status_code'],
    buckets: LATENCY_BUCKETS,
    registers: [registry]
  })
}

export function createMetrics (): Metrics {
  const registry = new Registry()
  collectDefaultMetrics({ register: registry, prefix: 'tokenmint_' })
  const tokens = new Counter({ name: 'tokenmint_tokens_issued_total', help: 'Tokens issued, by kind', labelNames: ['kind'], registers: [registry] })
  const verifications = new Counter({ name: 'tokenmint_verifications_total', help: 'SMS verification events, by outcome', labelNames: ['outcome'], registers: [registry] })
  const sends = new Counter({ name: 'tokenmint_sms_sends_total', help: 'SMS handed to the provider, by provider and result', labelNames: ['provider', 'result'], registers: [registry] })
  const limited = new Counter({ name: 'tokenmint_rate_limited_total', help: 'Requests refused by a rate limit, by budget', labelNames: ['budget'], registers: [registry] })
  const dependencies = new Counter({ name: 'tokenmint_dependency_errors_total', help: 'Requests that failed because a dependency did not answer', labelNames: ['dependency'], registers: [registry] })
  const reuse = new Counter({ name: 'tokenmint_refresh_token_reuse_total', help: 'Refresh tokens presented a second time (each ended its session)', registers: [registry] })
  // Zeros from the start: an alert on rate() needs the series to exist before the first event.
  for (const kind of ['access', 'app_verify', 'verified_phone', 'refresh']) tokens.labels(kind).inc(0)
  for (const outcome of ['started', 'resent', 'approved', 'wrong_code', 'expired', 'exhausted', 'canceled']) verifications.labels(outcome).inc(0)
  for (const budget of ['client', 'subject', 'address', 'flood', 'appverify', 'sms_check', 'sms_check_auth_id', 'login']) limited.labels(budget).inc(0)
  for (const dependency of ['store', 'redis']) dependencies.labels(dependency).inc(0)
  return {
    registry,
    tokenIssued: (kind) => { tokens.labels(kind).inc() },
    verification: (outcome) => { verifications.labels(outcome).inc() },
    smsSend: (provider, result) => { sends.labels(provider, result).inc() },
    rateLimited: (budget) => { limited.labels(budget).inc() },
    dependencyError: (dependency) => { dependencies.labels(dependency).inc() },
    refreshReuse: () => { reuse.inc() }
  }
}

/**
 * `fastify.metrics`, the counters other plugins feed, and the request histogram. Registered right
 * after config so every plugin can count; routes/metrics serves them.
 */
async function metricsPlugin (fastify: FastifyInstance): Promise<void> {
  const metrics = createMetrics()
  fastify.decorate('metrics', metrics)

  const requests = createRequestHistogram(metrics.registry)
  fastify.addHook('onResponse', async (request: FastifyRequest, reply) => {
    // The pattern, not the URL: /v1/token/:phone_number, never the phone number.
    const route = request.routeOptions.url ?? 'unmatched'
    requests.labels(route, request.method, String(reply.statusCode)).observe(reply.elapsedTime / 1000)
  })
}

export default fp(metricsPlugin, { name: 'metrics', dependencies: ['config'] })
