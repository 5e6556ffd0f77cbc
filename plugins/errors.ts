import { STATUS_CODES } from 'node:http'
import fp from 'fastify-plugin'
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { Problem, serviceUnavailable } from '../lib/problem.js'
import { pathOnly, scrub } from '../lib/redact.js'
import { DuplicateKeyError, StoreUnavailableError } from '../lib/store.js'

/**
 * Per route (in its `config`): the problem a schema failure on a given field becomes, `*` for any
 * other field. The schema states the rule, this map states the contract's error code for it.
 */
export type ValidationProblems = Record<string, (field: string) => Problem>

declare module 'fastify' {
  interface FastifyContextConfig {
    validationProblems?: ValidationProblems
    /** Flowroute's clients read `message` and `reason` from every error: such routes always carry both. */
    flowrouteErrors?: boolean
    /**
     * RFC 7009/7662 endpoints: OAuth clients (form bodies or HTTP Basic) get `{error, error_description}`;
     * `always` (the token endpoint): every caller does.
     */
    oauthErrors?: boolean | 'always'
    /** The Flowroute-compatible mount: errors are Flowroute's own JSON, `{message, reason[, attempts_left]}`. */
    flowrouteCompat?: boolean
  }
}

/** The field a schema failure is about (the first path segment, or the missing property), never its value. */
export function failingField (error: FastifyError): string {
  const first = error.validation?.[0]
  const path = first?.instancePath.replace(/^\//, '').split('/')[0] ?? ''
  const missing = (first?.params as { missingProperty?: unknown } | undefined)?.missingProperty
  return path !== '' ? path : typeof missing === 'string' ? missing : ''
}

function validationProblem (error: FastifyError, problems: ValidationProblems | undefined): Problem | undefined {
  if (error.validation === undefined || problems === undefined) return undefined
  const field = failingField(error)
  return (Object.hasOwn(problems, field) ? problems[field] : problems['*'])?.(field)
}

/** Fastify's own client errors, mapped to stable problem codes. */
const FASTIFY_CODES: Record<string, [number, string, string]> = {
  FST_ERR_CTP_BODY_TOO_LARGE: [413, 'payload_too_large', 'The request body is too large.'],
  FST_ERR_CTP_INVALID_MEDIA_TYPE: [415, 'unsupported_media_type', 'Send the body as application/json.'],
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: [400, 'invalid_request', 'The Content-Length header does not match the body.'],
  FST_ERR_CTP_EMPTY_JSON_BODY: [400, 'invalid_request', 'The JSON body is empty.'],
  FST_ERR_CTP_INVALID_JSON_BODY: [400, 'malformed_json', 'The body is not valid JSON.'],
  FST_ERR_BAD_URL: [400, 'invalid_request', 'The URL is malformed.'],
  FST_ERR_ASYNC_CONSTRAINT: [400, 'invalid_request', 'The request could not be routed.']
}

/** Turns any error into an RFC 9457 problem without leaking internals. */
export function toProblem (error: FastifyError | Error): Problem {
  if (error instanceof Problem) return error
  if (error instanceof StoreUnavailableError) {
    return serviceUnavailable('store_unavailable', 'The data store is temporarily unavailable; try again shortly.')
  }
  if (error instanceof DuplicateKeyError) return new Problem(409, 'conflict', 'The resource already exists.')
  const fastifyError = error as FastifyError
  if (fastifyError.validation !== undefined) {
    return new Problem(400, 'invalid_request', validationDetail(fastifyError))
  }
  const known = Object.hasOwn(FASTIFY_CODES, fastifyError.code ?? '') ? FASTIFY_CODES[fastifyError.code] : undefined
  if (known !== undefined) return new Problem(known[0], known[1], known[2])
  if (error instanceof SyntaxError && fastifyError.statusCode === 400) {
    return new Problem(400, 'malformed_json', 'The body is not valid JSON.')
  }
  const status = fastifyError.statusCode
  if (typeof status === 'number' && status >= 400 && status < 500) {
    const name = (STATUS_CODES[status] ?? 'client error').toLowerCase().replace(/[^a-z]+/g, '_')
    return new Problem(status, name === 'bad_request' ? 'invalid_request' : name, `The request was rejected (${STATUS_CODES[status] ?? status}).`)
  }
  return new Problem(500, 'internal_error', 'An unexpected error occurred. It has been logged.')
}

/** A validation message names the failing field but never echoes the submitted value. */
function validationDetail (error: FastifyError): string {
  const first = error.validation?.[0]
  if (first === undefined) return 'The request is not valid.'
  const context = error.validationContext ?? 'request'
  const path = first.instancePath === '' ? '' : first.instancePath.replaceAll('/', '.')
  if (first.keyword === 'additionalProperties') {
    const extra = String((first.params as { additionalProperty?: unknown }).additionalProperty ?? '').slice(0, 64)
    return `${context}${path} has an unknown property "${extra}".`
  }
  return `${context}${path} ${first.message ?? 'is not valid'}.`
}

const PROBLEM_CONTENT_TYPE = 'application/problem+json; charset=utf-8'

export function sendProblem (reply: FastifyReply, problem: Problem): FastifyReply {
  return reply
    .code(problem.statusCode)
    .headers(problem.headers)
    .type(PROBLEM_CONTENT_TYPE)
    .send(problem.toJSON())
}

/** The body and headers of a problem answered outside Fastify's reply (Node's own response or socket). */
export function problemBody (problem: Problem): { headers: Record<string, string | number>, body: string } {
  const body = JSON.stringify(problem.toJSON())
  return { headers: Object.assign({}, problem.headers, { 'content-type': PROBLEM_CONTENT_TYPE, 'content-length': Buffer.byteLength(body) }), body }
}

/** A whole HTTP/1.1 answer for a socket Node gave up on (malformed request, oversize headers, timeout); the connection closes. */
export function rawProblemResponse (problem: Problem): string {
  const { headers, body } = problemBody(problem)
  const lines = Object.entries(Object.assign({}, headers, { connection: 'close' })).map(([name, value]) => `${name}: ${value}`)
  return `HTTP/1.1 ${problem.statusCode} ${problem.title}\r\n${lines.join('\r\n')}\r\n\r\n${body}`
}

/** invalid_api_key → InvalidApiKey: a problem code in Flowroute's naming. */
function pascalCase (code: string): string {
  return code.split('_').map((word) => word.charAt(0).toUpperCase() + word.slice(1)).join('')
}

/**
 * The problem with Flowroute's `message` (the detail) and `reason`: InvalidAPIUsage for any 400, as
 * Flowroute names every input error, else the code in Flowroute's PascalCase (InvalidApiKey, ResendTooSoon).
 */
export function withFlowrouteFields (problem: Problem): Problem {
  const reason = problem.statusCode === 400 ? 'InvalidAPIUsage' : pascalCase(problem.code)
  return new Problem(problem.statusCode, problem.code, problem.message, { headers: problem.headers, extra: Object.assign({}, problem.extra, { message: problem.message, reason }) })
}

/** Flowroute's own messages for the check errors its client knows (sms_auth_service/api.py). */
const FLOWROUTE_MESSAGES: Record<string, string> = {
  unknown_auth_id: 'Unknown auth id',
  expired_auth_code: 'Expired code',
  invalid_auth_code: 'Invalid code',
  invalid_api_usage: 'Input error',
  invalid_request: 'Input error',
  malformed_json: 'Input error',
  invalid_phone_number: 'Input error'
}

/**
 * A problem as Flowroute's service answers it: application/json `{message, reason[, attempts_left]}`
 * (Flowroute's InvalidAPIUsage carries the explanation in `reason`). Problems Flowroute never
 * answers (401, 429, 503, ...) keep their status and headers, with the detail as `message`.
 */
function sendFlowrouteError (reply: FastifyReply, problem: Problem): FastifyReply {
  const attemptsLeft = problem.extra.attempts_left
  const message = FLOWROUTE_MESSAGES[problem.code]
  const body = message === 'Input error'
    ? { message, reason: problem.message }
    : {
        message: message ?? problem.message,
        reason: typeof problem.extra.reason === 'string' ? problem.extra.reason : pascalCase(problem.code),
        ...(typeof attemptsLeft === 'number' ? { attempts_left: attemptsLeft } : {})
      }
  return reply.code(problem.statusCode).headers(problem.headers).type('application/json; charset=utf-8').send(body)
}

/** RFC 6749 section 5.2 error codes for what went wrong, as OAuth libraries read them. */
const OAUTH_ERROR_CODES = new Set(['invalid_grant', 'unsupported_grant_type', 'invalid_client', 'unauthorized_client', 'unsupported_token_type', 'invalid_dpop_proof', 'use_dpop_nonce'])

function oauthErrorCode (problem: Problem): string {
  if (OAUTH_ERROR_CODES.has(problem.code)) return problem.code
  if (problem.statusCode === 401) return 'invalid_client'
  if (problem.statusCode === 403) return 'unauthorized_client'
  if (problem.statusCode === 429 || problem.statusCode === 503) return 'temporarily_unavailable'
  if (problem.statusCode >= 500) return 'server_error'
  return problem.code === 'unsupported_token_type' ? problem.code : 'invalid_request'
}

/** An OAuth library, known by its form-encoded body or its HTTP Basic client authentication; JSON clients with X-API-Key keep problem+json. */
function isOAuthClient (request: FastifyRequest): boolean {
  return /^application\/x-www-form-urlencoded/i.test(request.headers['content-type'] ?? '') || /^Basic /i.test(request.headers.authorization ?? '')
}

function sendOAuthError (reply: FastifyReply, problem: Problem): FastifyReply {
  const headers: Record<string, string> = Object.assign({}, problem.headers, { 'cache-control': 'no-store' })
  if (problem.statusCode === 401 && headers['www-authenticate'] === undefined) headers['www-authenticate'] = 'Basic realm="tokenmint"'
  return reply.code(problem.statusCode).headers(headers).type('application/json; charset=utf-8')
    .send({ error: oauthErrorCode(problem), error_description: problem.message })
}

async function errorsPlugin (fastify: FastifyInstance): Promise<void> {
  fastify.setErrorHandler(function problemHandler (error: FastifyError, request: FastifyRequest, reply: FastifyReply) {
    let problem = validationProblem(error, request.routeOptions.config.validationProblems) ?? toProblem(error)
    if (request.routeOptions.config.flowrouteErrors === true && problem.extra.reason === undefined) problem = withFlowrouteFields(problem)
    if (problem.code === 'store_unavailable') fastify.metrics.dependencyError('store')
    else if (problem.code === 'rate_limit_unavailable') fastify.metrics.dependencyError('redis')
    if (problem.statusCode === 503) {
      // "Not now" (a dependency down, indexes not ready, shutting down): a warning, not an error; a readiness probe meets it routinely.
      request.log.warn({ code: problem.code, reason: problem.message }, 'request failed: unavailable')
    } else if (problem.statusCode >= 500) {
      // No stack, driver name or host in logs either: the request id ties the log line to the report.
      request.log.error({ code: problem.code, reason: problem.statusCode === 500 ? scrub(error.message) : problem.message }, 'request failed')
    } else {
      request.log.info({ code: problem.code, status: problem.statusCode }, 'request rejected')
    }
    const oauth = request.routeOptions.config.oauthErrors
    if (oauth === 'always' || (oauth === true && isOAuthClient(request))) return sendOAuthError(reply, problem)
    if (request.routeOptions.config.flowrouteCompat === true) return sendFlowrouteError(reply, problem)
    return sendProblem(reply, problem)
  })

  fastify.setNotFoundHandler({ preHandler: fastify.rateLimit() }, function notFound (request, reply) {
    return sendProblem(reply, new Problem(404, 'not_found', `No route ${request.method} ${pathOnly(request.url).slice(0, 100)}.`))
  })
}

export default fp(errorsPlugin, { name: 'errors', dependencies: ['rate-limit', 'metrics'] })
