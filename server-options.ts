import { randomUUID } from 'node:crypto'
import { AjvCompiler } from '@fastify/ajv-compiler'
import { SerializerSelector } from '@fastify/fast-json-stringify-compiler'
import { LogController } from 'fastify'
import SonicBoomModule from 'sonic-boom'
import PinoPretty from 'pino-pretty'
import type { Server } from 'node:http'
import type { FastifyHttpOptions, FastifyReply, FastifyRequest } from 'fastify'
import type { Config } from './lib/config.js'
import { dropOldest } from './lib/capped.js'
import { Problem } from './lib/problem.js'
import { censorNested, pathOnly } from './lib/redact.js'
import { rawProblemResponse, sendProblem, toProblem } from './plugins/errors.js'

/** Fields that must never reach a log line, at the top of a logged object or one level down. */
const SECRET_FIELDS = ['token', 'password', 'otp', 'apiKey', 'secret', 'body']
/** Header and body fields that must never reach a log line (one level down: censorNested). */
const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers["x-api-key"]',
  'req.headers.dpop',
  'req.headers.cookie',
  ...SECRET_FIELDS
]
const CENSOR = '[REDACTED]'

const BODY_LIMIT_BYTES = 16 * 1024
/** Log bytes waiting for a slow reader before further lines are dropped. */
const LOG_BUFFER_BYTES = 8 * 1024 * 1024

// sonic-boom is CommonJS: its class is the module itself (the types describe it as a named export too).
const SonicBoom = SonicBoomModule as unknown as typeof import('sonic-boom').SonicBoom

/**
 * Where log lines go: standard output through one asynchronous, bounded buffer. A log reader that
 * stalls (full pipe) or dies (EPIPE) never blocks the event loop, so requests and shutdown go on;
 * past LOG_BUFFER_BYTES lines are dropped, and after EPIPE nothing more is written.
 */
export const logDestination = new SonicBoom({ fd: 1, sync: false, maxLength: LOG_BUFFER_BYTES })
logDestination.on('error', (error: NodeJS.ErrnoException) => {
  // As pino does for its own destinations: a reader that has gone will not come back.
  if (error.code === 'EPIPE') logDestination.write = () => true
})

/**
 * Waits until the log buffer is written, at most timeoutMs for a slow reader. (sonic-boom's own
 * flush(cb) answers at once when minLength is 0, even with a write in flight; 'drain' is emitted
 * once everything is written.)
 */
export async function flushLogs (timeoutMs: number): Promise<void> {
  const state = logDestination as unknown as { _writing?: boolean, _len?: number }
  if (state._writing === false && state._len === 0) return
  await new Promise<void>((resolve) => {
    const done = (): void => {
      clearTimeout(timer)
      logDestination.off('drain', done)
      resolve()
    }
    const timer = setTimeout(done, timeoutMs)
    logDestination.on('drain', done)
  })
}

/** Who called, for the access log: an API key by its key id, a token by its subject (a phone subject masked), never the credential. */
export function callerOf (request: FastifyRequest): string | undefined {
  const principal = request.principal
  if (principal === null || principal === undefined) return undefined
  if (principal.kind === 'api_key') return `client:${principal.client.id}`
  return principal.claims.sub.replace(/^(phone:\+\d)\d+(\d{4})$/, (_match, head: string, tail: string) => `${head}******${tail}`)
}

/**
 * One access-log line per request instead of Fastify's two, with flat fields (nested objects
 * cost pino's redaction about as much as the rest of the line, docs/benchmark.md): the route
 * pattern, the client address (TRUST_PROXY-aware), the caller, the status and the time.
 */
export class AccessLog extends LogController {
  override incomingRequest (): void {}

  override requestCompleted (error: Error | null | undefined, request: FastifyRequest, reply: FastifyReply): void {
    if (error !== null && error !== undefined) {
      super.requestCompleted(error, request, reply)
      return
    }
    request.log.info({
      method: request.method,
      url: pathOnly(request.url),
      route: request.routeOptions.url,
      client: request.ip,
      caller: callerOf(request),
      statusCode: reply.statusCode,
      responseTime: reply.elapsedTime
    }, 'request completed')
  }
}

/** Human-readable lines with local times, for a developer's terminal; production and pipes get JSON. */
export function prettyLogs (config: Config, isTerminal = process.stdout.isTTY): boolean {
  return config.logFormat === 'pretty' || (config.logFormat === 'auto' && config.nodeEnv === 'development' && isTerminal)
}

type SerializerFactory = ReturnType<typeof SerializerSelector>
type Serializer = ReturnType<ReturnType<SerializerFactory>>

/** Distinct sets of shared schemas whose compiled serializers are kept (one per app configuration). */
const SERIALIZER_POOLS = 16

/**
 * Fastify's own serializer factory, remembering what it compiled: a response schema compiled
 * once with the same shared schemas and options is not compiled again. Compiled serializers are
 * pure functions of their schemas, so every app this process builds can use them (the test suite
 * builds hundreds; compiling serializers was about 40% of building one).
 */
export function rememberingSerializers (build: SerializerFactory = SerializerSelector()): SerializerFactory {
  const pools = new Map<string, Map<string, Serializer>>()
  return (externalSchemas, options) => {
    const poolKey = JSON.stringify([externalSchemas, options])
    let pool = pools.get(poolKey)
    if (pool === undefined) {
      pool = new Map()
      pools.set(poolKey, pool)
      dropOldest(pools, SERIALIZER_POOLS)
    }
    const known = pool
    const compile = build(externalSchemas, options)
    return (route) => {
      const key = JSON.stringify(route.schema)
      let serializer = known.get(key)
      if (serializer === undefined) {
        serializer = compile(route)
        known.set(key, serializer)
      }
      return serializer
    }
  }
}

/**
 * One validator and one serializer factory for the whole process (Fastify makes new ones per
 * instance): @fastify/ajv-compiler keeps one Ajv per set of shared schemas and options, and Ajv
 * keeps what it compiled.
 */
const compilersFactory = { buildValidator: AjvCompiler(), buildSerializer: rememberingSerializers() }

/** The exact Fastify options production uses; tests build the app with the same ones. */
export function serverOptions (config: Config): FastifyHttpOptions<Server> {
  return {
    logger: {
      level: config.logLevel,
      stream: prettyLogs(config) ? PinoPretty({ colorize: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname', sync: true }) : logDestination,
      redact: { paths: REDACTED_PATHS, censor: CENSOR },
      // What `*.token`-style redact paths would do: pino applies a wildcard path's stringifier to
      // every value of every line, about 4 µs a line (docs/benchmark.md); this passes a flat line through.
      formatters: { log: (object) => censorNested(object, SECRET_FIELDS, CENSOR) },
      serializers: {
        // Paths only: a Flowroute-style check carries the code in the query string.
        req: (request: { method: string, url: string }) => ({ method: request.method, url: pathOnly(request.url) })
      }
    },
    logController: new AccessLog(),
    trustProxy: config.trustProxy ?? false,
    bodyLimit: BODY_LIMIT_BYTES,
    routerOptions: { maxParamLength: 256 },
    connectionTimeout: 30_000,
    keepAliveTimeout: 5_000,
    requestTimeout: 15_000,
    forceCloseConnections: 'idle',
    // Slow or stalled clients are cut off: headers within 10 s, checked every 2 s (Node's default is 30 s).
    // A missing Host is refused by our onRequest hook, as problem+json (Node's own 400 has no body).
    http: { headersTimeout: 10_000, connectionsCheckingInterval: 2_000, requireHostHeader: false },
    // Our own onRequest hook answers 503 problem+json while closing (Fastify's is plain JSON).
    return503OnClosing: false,
    requestIdHeader: false,
    genReqId: () => randomUUID(),
    schemaController: { compilersFactory },
    ajv: {
      // Contract §0: unknown properties are rejected, and nothing is coerced into a string.
      customOptions: { removeAdditional: false, coerceTypes: false, useDefaults: true, allErrors: false, keywords: ['x-request-examples'] }
    },
    // Router-level errors (bad percent-encoding, over-long parameters) get the same problem+json.
    frameworkErrors: (error, _request, reply) => { sendProblem(reply, toProblem(error)) },
    clientErrorHandler: (error: Error & { code?: string }, socket) => {
      if (!socket.writable) return
      const problem = error.code === 'HPE_HEADER_OVERFLOW'
        ? new Problem(431, 'headers_too_large', 'The request headers are too large.')
        : error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
          ? new Problem(408, 'request_timeout', 'The request took too long to arrive.')
          : new Problem(400, 'invalid_request', 'The HTTP request is malformed.')
      socket.end(rawProblemResponse(problem))
    }
  }
}
