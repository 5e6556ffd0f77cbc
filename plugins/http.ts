import fp from 'fastify-plugin'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { badRequest, Problem, serviceUnavailable } from '../lib/problem.js'
import { problemBody } from './errors.js'

const UNSUPPORTED_BODY = (): Problem => new Problem(415, 'unsupported_media_type', 'Send the body as uncompressed UTF-8 application/json.')
const FORBIDDEN_PROPERTY = (): Problem => new Problem(400, 'invalid_request', 'The body holds a forbidden property (__proto__ or constructor).')
const MALFORMED_JSON = (): Problem => new Problem(400, 'malformed_json', 'The body is not valid JSON.')

function isJson (text: string): boolean {
  try {
    JSON.parse(text)
    return true
  } catch {
    return false
  }
}

/**
 * Fastify's own JSON parser (secure-json-parse refusing __proto__ and constructor.prototype) behind
 * the checks it leaves out: only uncompressed UTF-8 is read (RFC 8259), an empty body is no body, and
 * its one "invalid JSON" error is split into what the client must fix: the syntax, or a forbidden key.
 */
export function jsonBodyParser (fastify: FastifyInstance): (request: FastifyRequest, body: string, done: (error: Error | null, value?: unknown) => void) => void {
  const parse = fastify.getDefaultJsonParser('error', 'error')
  return (request, body, done) => {
    const encoding = request.headers['content-encoding']
    const charset = /;\s*charset\s*=\s*"?([^";\s]*)/i.exec(request.headers['content-type'] ?? '')?.[1]
    if ((encoding !== undefined && encoding.trim().toLowerCase() !== 'identity') || (charset !== undefined && charset.toLowerCase() !== 'utf-8')) {
      done(UNSUPPORTED_BODY())
      return
    }
    if (body.trim() === '') {
      done(null, undefined)
      return
    }
    parse(request, body, (error, value) => {
      if (error === null) done(null, value)
      else done(isJson(body) ? FORBIDDEN_PROPERTY() : MALFORMED_JSON())
    })
  }
}

/**
 * HTTP hardening: JSON in (UTF-8, uncompressed, 415 otherwise), a Host header on HTTP/1.1, only
 * `Expect: 100-continue`, a request id on every answer, and 503 `shutting_down` while closing.
 */
async function httpPlugin (fastify: FastifyInstance): Promise<void> {
  // JSON in, JSON out: other bodies are 415 rather than strings that fail validation later.
  fastify.removeContentTypeParser(['text/plain', 'application/json'])
  fastify.addContentTypeParser('application/json', { parseAs: 'string' }, jsonBodyParser(fastify))

  let closing = false
  fastify.addHook('preClose', async () => { closing = true })
  // Node answers an unknown Expect with a bare 417; this one says why, as every other error does.
  fastify.server.on('checkExpectation', (_request, response) => {
    const { headers, body } = problemBody(new Problem(417, 'expectation_failed', 'Only "Expect: 100-continue" is supported.'))
    response.writeHead(417, { ...headers, connection: 'close' }).end(body)
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
}

export default fp(httpPlugin, { name: 'http' })
