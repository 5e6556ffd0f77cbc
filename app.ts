import { randomUUID } from 'node:crypto'
import Fastify, { LogController } from 'fastify'
import fp from 'fastify-plugin'
import secureJson from 'secure-json-parse'
import SonicBoomModule from 'sonic-boom'
import type { Server } from 'node:http'
import type { FastifyHttpOptions, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import type { Config } from './lib/config.js'
import { badRequest, Problem, serviceUnavailable } from './lib/problem.js'
import { pathOnly } from './lib/redact.js'
import configPlugin from './plugins/config.js'
import schemasPlugin from './plugins/schemas.js'
import storePlugin from './plugins/store.js'
import keysPlugin from './plugins/keys.js'
import jwtPlugin from './plugins/jwt.js'
import appVerifyPlugin from './plugins/appverify.js'
import accountsPlugin from './plugins/accounts.js'
import rateLimitPlugin from './plugins/rate-limit.js'
import authPlugin from './plugins/auth.js'
import errorsPlugin, { sendProblem, toProblem } from './plugins/errors.js'
import swaggerPlugin from './plugins/swagger.js'
import smsPlugin from './plugins/sms.js'
import verificationsPlugin from './plugins/verifications.js'
import type { Store } from './lib/store.js'
import routes from './routes/index.js'

export interface AppOptions {
  config: Config
  /** A prepared store (tests inject faults through it); by default chosen from the config. */
  store?: Store
}

/** Header and body fields that must never reach a log line. */
const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers["x-api-key"]',
  'req.headers.dpop',
  'req.headers.cookie',
  'token', '*.token',
  'password', '*.password',
  'otp', '*.otp',
  'apiKey', '*.apiKey',
  'secret', '*.secret',
  'body', '*.body'
]

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

/** Writes what the log buffer holds, waiting at most timeoutMs for a slow reader. */
export async function flushLogs (timeoutMs: number): Promise<void> {
  await new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, timeoutMs)
    logDestination.flush(() => {
      clearTimeout(timer)
      resolve()
    })
  })
}

/**
 * One access-log line per request instead of Fastify's two, with flat fields: nested objects
 * cost pino's redaction about as much as the rest of the line (docs/benchmark.md).
 */
export class AccessLog extends LogController {
  override incomingRequest (): void {}

  override requestCompleted (error: Error | null | undefined, request: FastifyRequest, reply: FastifyReply): void {
    if (error !== null && error !== undefined) {
      super.requestCompleted(error, request, reply)
      return
    }
    request.log.info({ method: request.method, url: pathOnly(request.url), statusCode: reply.statusCode, responseTime: reply.elapsedTime }, 'request completed')
  }
}

/** The exact Fastify options production uses; tests build the app with the same ones. */
export function serverOptions (config: Config): FastifyHttpOptions<Server> {
  return {
    logger: {
      level: config.logLevel,
      stream: logDestination,
      redact: { paths: REDACTED_PATHS, censor: '[REDACTED]' },
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
    onProtoPoisoning: 'error',
    onConstructorPoisoning: 'error',
    requestIdHeader: false,
    genReqId: () => randomUUID(),
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
      const body = JSON.stringify(problem.toJSON())
      socket.end(`HTTP/1.1 ${problem.statusCode} ${problem.title}\r\nContent-Type: application/problem+json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`)
    }
  }
}

/** Fastify's parser reports prototype poisoning as "not valid JSON"; ours says what was refused. */
function parseJsonBody (request: FastifyRequest, body: string | Buffer, done: (error: Error | null, value?: unknown) => void): void {
  // JSON is UTF-8 (RFC 8259) and nothing here decodes gzip or the like: anything else would be read as something it is not.
  const encoding = request.headers['content-encoding']
  const charset = /;\s*charset\s*=\s*"?([^";\s]*)/i.exec(request.headers['content-type'] ?? '')?.[1]
  if ((encoding !== undefined && encoding.trim().toLowerCase() !== 'identity') || (charset !== undefined && charset.toLowerCase() !== 'utf-8')) {
    done(new Problem(415, 'unsupported_media_type', 'Send the body as uncompressed UTF-8 application/json.'))
    return
  }
  const text = body.toString()
  if (text.trim() === '') {
    done(null, undefined)
    return
  }
  try {
    done(null, secureJson.parse(text, undefined, { protoAction: 'error', constructorAction: 'error' }))
  } catch (error) {
    done(error instanceof SyntaxError && /prototype|constructor/i.test(error.message)
      ? new Problem(400, 'invalid_request', 'The body holds a forbidden property (__proto__ or constructor).')
      : new Problem(400, 'malformed_json', 'The body is not valid JSON.'))
  }
}

/** The whole service as one plugin: configuration and schemas, storage and keys, then the routes. */
export default async function app (fastify: FastifyInstance, options: AppOptions): Promise<void> {
  // JSON in, JSON out: other bodies are 415 rather than strings that fail validation later.
  fastify.removeContentTypeParser(['text/plain', 'application/json'])
  fastify.addContentTypeParser('application/json', { parseAs: 'string' }, parseJsonBody)
  await fastify.register(configPlugin, { config: options.config })
  await fastify.register(schemasPlugin)
  await fastify.register(storePlugin, options.store === undefined ? {} : { store: options.store })
  await fastify.register(keysPlugin)
  await fastify.register(jwtPlugin)
  await fastify.register(appVerifyPlugin)
  await fastify.register(smsPlugin)
  await fastify.register(verificationsPlugin)
  await fastify.register(accountsPlugin)
  // rate-limit, auth and swagger hook onRoute, so they come before any route.
  await fastify.register(rateLimitPlugin)
  await fastify.register(authPlugin)
  await fastify.register(errorsPlugin)
  await fastify.register(swaggerPlugin)

  let closing = false
  fastify.addHook('preClose', async () => { closing = true })
  // Node answers an unknown Expect with a bare 417; this one says why, as every other error does.
  fastify.server.on('checkExpectation', (_request, response) => {
    const body = JSON.stringify(new Problem(417, 'expectation_failed', 'Only "Expect: 100-continue" is supported.').toJSON())
    response.writeHead(417, { 'content-type': 'application/problem+json; charset=utf-8', 'content-length': Buffer.byteLength(body), connection: 'close' }).end(body)
  })
  fastify.addHook('onRequest', async (request, reply) => {
    reply.header('x-request-id', request.id)
    if (request.raw.httpVersion === '1.1' && request.headers.host === undefined) throw badRequest('invalid_request', 'HTTP/1.1 requests need a Host header.')
    if (closing) {
      reply.header('connection', 'close')
      throw serviceUnavailable('shutting_down', 'This instance is shutting down; retry the request.', 1)
    }
  })
  // A request in flight when closing began ends its connection with its answer; kept alive it would hold close() up to keepAliveTimeout.
  fastify.addHook('onSend', async (_request, reply) => {
    if (closing) reply.header('connection', 'close')
  })

  await fastify.register(routes)
}

/** Builds the service exactly as server.ts runs it. */
export async function build (options: AppOptions): Promise<FastifyInstance> {
  const fastify = Fastify(serverOptions(options.config)).withTypeProvider<TypeBoxTypeProvider>()
  // fastify-plugin: the app's decorators (store, swagger, ...) stay visible to the caller and tests.
  await fastify.register(fp(app, { name: 'tokenmint' }), options)
  return fastify
}
