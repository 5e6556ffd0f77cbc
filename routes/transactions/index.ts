import { Type } from '@sinclair/typebox'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { integerQueryParameter } from '../../lib/form.js'
import { DEFAULT_PAGE_LIMIT, decodeCursor, encodeCursor, invalidPhoneNumber, invalidXid, MAX_PAGE_LIMIT, transactionStatus, XID_PATTERN } from '../../lib/appverify.js'
import { parsePhone } from '../../lib/phone.js'
import { badRequest, notFound } from '../../lib/problem.js'
import type { TransactionRecord } from '../../lib/store.js'
import { TransactionListSchema, TransactionSchema } from '../../schemas/appverify.js'
import type { Transaction } from '../../schemas/appverify.js'
import { apiKeySecurity, okResponse, problemResponses, RATE_LIMIT_HEADERS } from '../../schemas/common.js'

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
      operationId: 'transaction',
      tags: ['appverify'],
      summary: 'Get Status: one App Verify transaction by xid',
      description: 'The transaction recorded when a token was issued with this xid (generated or yours), with its status: `pending` until the token expires, then `expired`. Kept as long as the store keeps transactions.',
      security: apiKeySecurity,
      params: Type.Object({ xid: Type.String({ pattern: XID_PATTERN, description: 'The xid the token was issued with', examples: ['order-42'] }) }),
      response: { 200: okResponse('The transaction', TransactionSchema, RATE_LIMIT_HEADERS), ...problemResponses(400, 401, 403, 404, 429, 503) }
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
      operationId: 'transactions',
      tags: ['appverify'],
      summary: 'Get Status: a phone number\'s App Verify transactions, newest first',
      description: 'Pages of up to `limit` transactions; pass `next_cursor` as `cursor` for the next page. A number with none is an empty list, not a 404.',
      security: apiKeySecurity,
      querystring: Type.Object({
        phone_number: Type.String({ description: 'E.164 (a literal + or %2B) or the 11-digit NANP form', examples: ['15551234567'] }),
        limit: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_PAGE_LIMIT, default: DEFAULT_PAGE_LIMIT, description: `Page size, 1..${MAX_PAGE_LIMIT}` })),
        cursor: Type.Optional(Type.String({ maxLength: 512, description: 'next_cursor from the previous page' }))
      }, { additionalProperties: false }),
      response: { 200: okResponse('A page of transactions', TransactionListSchema, RATE_LIMIT_HEADERS), ...problemResponses(400, 401, 403, 429, 503) }
    },
    config: { validationProblems: { limit: () => badRequest('invalid_request', `limit must be an integer from 1 to ${MAX_PAGE_LIMIT}.`) } },
    preValidation: integerQueryParameter('limit')
  }, async (request) => {
    const { phone_number: given, limit = DEFAULT_PAGE_LIMIT, cursor: cursorText } = request.query
    const phone = parsePhone(queryPhone(given, request.url))
    if (phone === undefined) throw invalidPhoneNumber()
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
