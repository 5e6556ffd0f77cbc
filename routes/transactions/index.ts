import { Type } from '@sinclair/typebox'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { decodeCursor, encodeCursor, invalidPhoneNumber, invalidXid, parseLimit, transactionStatus, XID_PATTERN } from '../../lib/appverify.js'
import { parsePhone } from '../../lib/phone.js'
import { badRequest, notFound } from '../../lib/problem.js'
import type { TransactionRecord } from '../../lib/store.js'
import { TransactionListSchema, TransactionSchema } from '../../schemas/appverify.js'
import type { Transaction } from '../../schemas/appverify.js'
import { apiKeySecurity, problemResponses, ref } from '../../schemas/common.js'

function toTransaction (record: TransactionRecord, nowMs: number): Transaction {
  return {
    xid: record.xid,
    phone_number: record.phone_number,
    issued_at: record.issued_at.toISOString(),
    expires_at: record.expires_at.toISOString(),
    status: transactionStatus(record.expires_at, nowMs)
  }
}

/** In a query string a literal "+" decodes to a space; the raw URL tells whether the client sent one. */
function queryPhone (value: string, rawUrl: string): string {
  return value.startsWith(' ') && /[?&]phone_number=\+/.test(rawUrl) ? `+${value.slice(1)}` : value
}

const transactionRoutes: FastifyPluginAsyncTypebox = async (fastify) => {
  // API clients need the 'appverify' scope for every route in this file.
  fastify.addHook('onRoute', (route) => { route.config = { ...route.config, scope: 'appverify' } })
  fastify.get('/v1/transactions/:xid', {
    schema: {
      tags: ['appverify'],
      summary: 'Get Status: one App Verify transaction by xid',
      security: apiKeySecurity,
      params: Type.Object({ xid: Type.String({ pattern: XID_PATTERN, description: 'The xid the token was issued with', examples: ['order-42'] }) }),
      response: { 200: ref(TransactionSchema), ...problemResponses(400, 401, 404, 429, 503) }
    },
    config: { validationProblems: { xid: invalidXid } }
  }, async (request) => {
    const { xid } = request.params
    const record = await fastify.appVerify.findTransaction(xid)
    if (record === null) throw notFound('not_found', 'No App Verify token was issued with this xid.')
    return toTransaction(record, Date.now())
  })

  // An xid longer than the router's maxParamLength (or holding a "/") lands here rather than on a bare 414.
  fastify.get('/v1/transactions/*', {
    exposeHeadRoute: false,
    schema: { hide: true, security: apiKeySecurity }
  }, async () => {
    // A valid xid is at most 128 characters and has no "/", so it always matches the route above.
    throw invalidXid()
  })

  fastify.get('/v1/transactions', {
    schema: {
      tags: ['appverify'],
      summary: 'Get Status: a phone number\'s App Verify transactions, newest first',
      security: apiKeySecurity,
      querystring: Type.Object({
        phone_number: Type.String({ description: 'E.164 (a literal + or %2B) or the 11-digit NANP form', examples: ['15551234567'] }),
        limit: Type.Optional(Type.String({ pattern: '^[0-9]{1,3}$', description: 'Page size, 1..100 (default 20)', examples: ['20'] })),
        cursor: Type.Optional(Type.String({ maxLength: 512, description: 'next_cursor from the previous page' }))
      }, { additionalProperties: false }),
      response: { 200: ref(TransactionListSchema), ...problemResponses(400, 401, 429, 503) }
    }
  }, async (request) => {
    const { phone_number: given, limit: limitText, cursor: cursorText } = request.query
    const phone = parsePhone(queryPhone(given, request.url))
    if (phone === undefined) throw invalidPhoneNumber()
    const limit = parseLimit(limitText)
    if (limit === undefined) throw badRequest('invalid_request', 'limit must be an integer from 1 to 100.')
    const after = cursorText === undefined ? undefined : decodeCursor(cursorText)
    if (cursorText !== undefined && after === undefined) throw badRequest('invalid_request', 'The cursor is not one this service issued.')
    const page = await fastify.appVerify.listTransactions(phone, after === undefined ? { limit } : { limit, after })
    const now = Date.now()
    return {
      items: page.items.map((record) => toTransaction(record, now)),
      ...(page.next === undefined ? {} : { next_cursor: encodeCursor(page.next) })
    }
  })
}

export default transactionRoutes
