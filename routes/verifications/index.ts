import { Type } from '@sinclair/typebox'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { FastifyInstance, onRequestAsyncHookHandler } from 'fastify'
import type { ValidationProblems } from '../../plugins/errors.js'
import { badRequest, notFound } from '../../lib/problem.js'
import { invalidApiUsage } from '../../lib/verification.js'
import { apiKeySecurity, keyOrBearerSecurity, okResponse, problemExample, problemResponse, problemResponses, RATE_LIMIT_HEADERS, ref } from '../../schemas/common.js'
import {
  CheckVerificationRequestSchema,
  StartVerificationRequestSchema,
  VerificationApprovedSchema,
  VerificationProblemSchema,
  VerificationSchema,
  VerificationStartedSchema
} from '../../schemas/verifications.js'

const checkProblems = {
  400: problemResponse(400, {
    description: 'Wrong, expired or unknown code or auth_id, malformed input: Flowroute reason, message, attempts_left, verification_status',
    schema: VerificationProblemSchema,
    example: problemExample(400, 'invalid_auth_code', 'Incorrect code. 2 attempts left.', { reason: 'InvalidAuthCode', message: 'Incorrect code. 2 attempts left.', attempts_left: 2, verification_status: 'pending' })
  })
}

const AuthIdParams = Type.Object({
  auth_id: Type.String({ minLength: 1, maxLength: 120, description: 'The verification\'s auth_id' })
})

/**
 * The check budgets, one per caller and one per auth_id, for every check route (both forms here and
 * the Flowroute mount): budgets are shared by name, so alternating between the forms, or spreading
 * one auth_id's checks over many callers, gains nothing. Counted after parsing (the auth_id is in the body or the query).
 */
export function checkBudgets (fastify: FastifyInstance): onRequestAsyncHookHandler[] {
  const rate = fastify.config.sms.checkRateLimit
  return [
    fastify.budget('sms_check', rate),
    fastify.budget('sms_check_auth_id', rate, (request) => {
      const input = (request.body ?? request.query) as { auth_id?: unknown } | undefined
      return `auth_id:${typeof input?.auth_id === 'string' ? input.auth_id : ''}`
    })
  ]
}

const verificationRoutes: FastifyPluginAsyncTypebox = async (fastify) => {
  // API clients need the 'verify' scope for every route in this file, and every error carries Flowroute's message and reason.
  fastify.addHook('onRoute', (route) => { route.config = { ...route.config, scope: 'verify', flowrouteErrors: true } })
  const { config } = fastify
  const service = fastify.verifications
  const checkLimits = { preHandler: checkBudgets(fastify) }
  // Flowroute's InvalidAPIUsage for any malformed check input, naming the field but never its value.
  const checkInputProblems: ValidationProblems = {
    code: () => invalidApiUsage(`code must be a string of exactly ${config.otp.codeLength} ASCII digits.`),
    auth_id: () => invalidApiUsage('auth_id must be a string of 1 to 120 characters.'),
    '*': (field) => invalidApiUsage(`Send exactly auth_id and code${field === '' ? '' : ` ("${field.slice(0, 32)}" is not accepted)`}.`)
  }

  fastify.post('/v1/verifications', {
    schema: {
      operationId: 'createVerification',
      tags: ['verification'],
      summary: 'Send a verification code by SMS (or resend it)',
      description: 'Creates a verification and sends AUTH_MESSAGE with a fresh code to `recipient`. The same `auth_id` while ' +
        'pending is a resend: a new code, after SMS_RESEND_COOLDOWN, at most SMS_MAX_SENDS in all, attempts NOT reset. ' +
        'Once a verification has ended (approved, canceled, expired), its auth_id can start a new one.',
      security: keyOrBearerSecurity,
      body: ref(StartVerificationRequestSchema),
      response: { 201: okResponse('The code was sent', VerificationStartedSchema, RATE_LIMIT_HEADERS), ...problemResponses(400, 401, 403, 409, 413, 415, 429, 502, 503) }
    },
    config: {
      validationProblems: {
        recipient: () => badRequest('invalid_phone_number', 'recipient must be an E.164 number (+15551234567) or the 11-digit form 15551234567.')
      }
    }
  }, async (request, reply) => {
    const started = await service.start(request.body.auth_id, request.body.recipient)
    return reply.code(201).send(started)
  })

  fastify.post('/v1/verifications/check', {
    schema: {
      operationId: 'checkVerification',
      tags: ['verification'],
      summary: 'Check a code',
      description: 'Each check spends one of RETRIES_ALLOWED attempts atomically; a code is single-use. ' +
        'On success the answer carries a verified-phone token unless VERIFIED_TOKEN=false.',
      security: keyOrBearerSecurity,
      body: ref(CheckVerificationRequestSchema),
      response: { 200: okResponse('Approved', VerificationApprovedSchema, RATE_LIMIT_HEADERS), ...problemResponses(401, 403, 413, 415, 429, 503), ...checkProblems }
    },
    ...checkLimits,
    config: { rateLimit: false, validationProblems: checkInputProblems }
  }, async (request) => {
    return await service.check(request.body.auth_id, request.body.code)
  })

  fastify.get('/v1/verifications', {
    schema: {
      operationId: 'checkVerificationByQuery',
      tags: ['verification'],
      summary: 'Check a code (Flowroute form)',
      description: 'Flowroute\'s `GET ?auth_id=&code=`, equivalent to POST /v1/verifications/check. Prefer the POST: ' +
        'query strings end up in proxy logs.',
      security: keyOrBearerSecurity,
      querystring: Type.Object({
        auth_id: Type.String({ minLength: 1, maxLength: 120 }),
        code: Type.String({ pattern: '^[0-9]{4,10}$', description: 'Exactly CODE_LENGTH ASCII digits' })
      }, { additionalProperties: false }),
      response: { 200: okResponse('Approved', VerificationApprovedSchema, RATE_LIMIT_HEADERS), ...problemResponses(401, 403, 429, 503), ...checkProblems }
    },
    ...checkLimits,
    config: { rateLimit: false, validationProblems: checkInputProblems }
  }, async (request) => {
    return await service.check(request.query.auth_id, request.query.code)
  })

  fastify.get('/v1/verifications/:auth_id', {
    schema: {
      operationId: 'verificationStatus',
      tags: ['verification'],
      summary: 'The status of a verification',
      description: 'pending, approved, expired, max_attempts_reached or canceled; kept VERIFICATION_RETENTION seconds after it ends.',
      security: apiKeySecurity,
      params: AuthIdParams,
      response: { 200: okResponse('The verification', VerificationSchema, RATE_LIMIT_HEADERS), ...problemResponses(400, 401, 403, 404, 414, 429, 503) }
    }
  }, async (request) => {
    const view = await service.status(request.params.auth_id)
    if (view === undefined) throw notFound('unknown_auth_id', 'No verification exists for this auth_id.')
    return view
  })

  fastify.delete('/v1/verifications/:auth_id', {
    schema: {
      operationId: 'cancelVerification',
      tags: ['verification'],
      summary: 'Cancel a verification',
      description: 'A pending verification becomes canceled and its code stops working; one that already ended is left as it is.',
      security: apiKeySecurity,
      params: AuthIdParams,
      response: { 204: Type.Null({ description: 'Canceled (or already ended)' }), ...problemResponses(400, 401, 403, 404, 414, 415, 429, 503) }
    }
  }, async (request, reply) => {
    if (!(await service.cancel(request.params.auth_id))) throw notFound('unknown_auth_id', 'No verification exists for this auth_id.')
    return reply.code(204).send(null)
  })
}

export default verificationRoutes
