import fp from 'fastify-plugin'
import secureJson from 'secure-json-parse'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { badRequest, Problem, serviceUnavailable } from '../lib/problem.js'
import { problemBody } from './errors.js'

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

/**
 * HTTP hardening: JSON in (UTF-8, uncompressed, 415 otherwise), a Host header on HTTP/1.1, only
 * `Expect: 100-continue`, a request id on every answer, and 503 `shutting_down` while closing.
 */
async function httpPlugin (fastify: FastifyInstance): Promise<void> {
  // JSON in, JSON out: other bodies are 415 rather than strings that fail validation later.
  fastify.removeContentTypeParser(['text/plain', 'application/json'])
  fastify.addContentTypeParser('application/json', { parseAs: 'string' }, parseJsonBody)

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
