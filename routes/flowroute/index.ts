import { BlockList, isIPv4 } from 'node:net'
import { Type } from '@sinclair/typebox'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Problem } from '../../lib/problem.js'
import { APPROVED_MESSAGE, FLOWROUTE_INPUT_ERROR, invalidApiUsage } from '../../lib/verification.js'
import { problemResponses } from '../../schemas/common.js'
import { checkBudgets } from '../verifications/index.js'

/** The Flowroute API's own success message for a created code. */
export const CREATED_MESSAGE = 'Success: Verification code created.' as const

/** An allow list of addresses and CIDRs; IPv4-mapped IPv6 addresses count as their IPv4 address. */
export function addressAllowList (entries: readonly string[]): (address: string) => boolean {
  const list = new BlockList()
  for (const entry of entries) {
    const [address = '', bits] = entry.split('/')
    const family = isIPv4(address) ? 'ipv4' : 'ipv6'
    if (bits === undefined) list.addAddress(address, family)
    else list.addSubnet(address, Number(bits), family)
  }
  return (address) => {
    const plain = address.startsWith('::ffff:') && isIPv4(address.slice(7)) ? address.slice(7) : address
    return list.check(plain, isIPv4(plain) ? 'ipv4' : 'ipv6')
  }
}

const StartBody = Type.Object({
  auth_id: Type.Union([Type.String({ minLength: 1, maxLength: 120 }), Type.Integer()]),
  recipient: Type.Union([Type.String({ maxLength: 32 }), Type.Integer()])
})

const CheckQuery = Type.Object({
  auth_id: Type.String({ minLength: 1, maxLength: 120 }),
  code: Type.String({ maxLength: 64 })
})

/**
 * Flowroute's sms-verification API exactly as its client calls it (FLOWROUTE_COMPAT): POST and GET
 * at the mount's root, Flowroute's bodies and status codes, codes compared as integers. Everything
 * else is tokenmint's: CSPRNG codes stored as HMACs, attempts spent atomically, resend cooldown,
 * sends per auth_id and per recipient, the check budgets (shared with /v1/verifications).
 * Flowroute's client sends no credentials, so the mount is open to FLOWROUTE_COMPAT_ALLOW addresses
 * (loopback by default); anyone else sends an API key with the verify scope.
 */
const flowrouteRoutes: FastifyPluginAsyncTypebox = async (fastify) => {
  const { config } = fastify
  const service = fastify.verifications
  const allowed = addressAllowList(config.sms.flowrouteCompat.allow)
  fastify.addHook('onRoute', (route) => {
    route.config = { ...route.config, scope: 'verify', flowrouteCompat: true }
    route.schema = { ...route.schema, tags: ['flowroute'] }
  })
  fastify.addHook('onRequest', async (request) => {
    try {
      if (request.headers['x-api-key'] !== undefined) await fastify.authenticate(request, ['apiKey'])
      else if (!allowed(request.ip)) throw new Problem(401, 'invalid_api_key', 'Send an X-API-Key header: this address may not call the Flowroute-compatible API without one.')
    } catch (error) {
      throw (await fastify.chargeFailedAuth(request)) ?? error
    }
  })
  const inputError = invalidApiUsage(FLOWROUTE_INPUT_ERROR)

  fastify.post('/', {
    schema: {
      operationId: 'flowrouteCreate',
      summary: 'Send a code (Flowroute\'s POST /)',
      description: 'Flowroute\'s `{"auth_id", "recipient"}`; answers 200 `{"message": "Success: Verification code created.", "auth_id"}`.',
      body: StartBody,
      response: {
        200: Type.Object({ message: Type.Literal(CREATED_MESSAGE), auth_id: Type.String() }),
        ...problemResponses(400, 401, 403, 409, 413, 415, 429, 502, 503)
      }
    },
    config: {
      validationProblems: {
        '*': () => invalidApiUsage("Required arguments: 'auth_id' (str), 'recipient' (str)")
      }
    }
  }, async (request) => {
    const authId = String(request.body.auth_id)
    await service.start(authId, request.body.recipient)
    return { message: CREATED_MESSAGE, auth_id: authId }
  })

  fastify.get('/', {
    schema: {
      operationId: 'flowrouteCheck',
      summary: 'Check a code (Flowroute\'s GET /?auth_id=&code=)',
      description: 'Answers 200 `{"authenticated": true, "auth_id", "message"}`, or 400 with Flowroute\'s `message`, `reason` and `attempts_left`.',
      querystring: CheckQuery,
      response: {
        200: Type.Object({ authenticated: Type.Literal(true), auth_id: Type.String(), message: Type.Literal(APPROVED_MESSAGE) }),
        ...problemResponses(400, 401, 429, 503)
      }
    },
    preHandler: checkBudgets(fastify),
    config: { rateLimit: false, validationProblems: { '*': () => inputError } }
  }, async (request) => {
    const { auth_id: authId } = await service.checkAsFlowroute(request.query.auth_id, request.query.code)
    return { authenticated: true as const, auth_id: authId, message: APPROVED_MESSAGE }
  })
}

export default flowrouteRoutes
