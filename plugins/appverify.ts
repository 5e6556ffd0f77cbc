import { randomUUID } from 'node:crypto'
import fp from 'fastify-plugin'
import type { FastifyInstance } from 'fastify'
import { appVerifyClaims, createAppVerifySigner, tokenSha256 } from '../lib/appverify.js'
import type { AppVerifyClaims } from '../lib/appverify.js'
import type { PhoneNumber } from '../lib/phone.js'
import { conflict } from '../lib/problem.js'
import { DuplicateKeyError } from '../lib/store.js'
import type { TransactionPage, TransactionRecord } from '../lib/store.js'

export interface IssueAppVerifyInput {
  phone: PhoneNumber
  /** The client's transaction id; a fresh UUID v4 when absent. */
  xid?: string
  /** Who asked: `client:<key id>`, an access token's sub, or `public`. */
  issuedTo: string
}

export interface IssuedAppVerifyToken {
  token: string
  claims: AppVerifyClaims
  transaction: TransactionRecord
}

export interface AppVerifyService {
  /** Signs a Telesign App Verify token and records the transaction; no record, no token. */
  issueAppVerifyToken (input: IssueAppVerifyInput): Promise<IssuedAppVerifyToken>
  /** Get Status by xid: the recorded transaction while it is retained, else null. */
  findTransaction (xid: string): Promise<TransactionRecord | null>
  /** Get Status by phone number: its transactions newest first, a page at a time. */
  listTransactions (phone: PhoneNumber, page: { limit: number, after?: { issued_at: Date, xid: string } }): Promise<TransactionPage>
}

declare module 'fastify' {
  interface FastifyInstance {
    appVerify: AppVerifyService
  }
}

/**
 * App Verify tokens use their own key (APPVERIFY_API_KEY) and issuer (the Telesign customer
 * id) and carry no kid or at+jwt typ, so they can never pass as access tokens, nor the reverse.
 */
async function appVerifyPlugin (fastify: FastifyInstance): Promise<void> {
  const { customerId, apiKey, tokenTtl, backdate } = fastify.config.appVerify
  const { store } = fastify
  const sign = createAppVerifySigner(apiKey)

  fastify.decorate('appVerify', {
    async issueAppVerifyToken ({ phone, xid, issuedTo }) {
      const issuedAt = new Date()
      const claims = appVerifyClaims({
        customerId,
        nowSeconds: Math.floor(issuedAt.getTime() / 1000),
        backdate,
        ttl: tokenTtl,
        phn: phone.given,
        xid: xid ?? randomUUID()
      })
      const token = sign(claims)
      const transaction: TransactionRecord = {
        xid: claims.xid,
        phone_number: phone.e164,
        token_sha256: tokenSha256(token),
        issued_at: issuedAt,
        expires_at: new Date(claims.exp * 1000),
        issued_to: issuedTo
      }
      try {
        await store.transactions.record(transaction)
      } catch (error) {
        if (error instanceof DuplicateKeyError) throw conflict('xid_exists', 'A token was already issued for this xid; use a new transaction id.')
        throw error
      }
      fastify.metrics.tokenIssued('app_verify')
      return { token, claims, transaction }
    },

    async findTransaction (xid) {
      return await store.transactions.find(xid)
    },

    async listTransactions (phone, page) {
      return await store.transactions.listByPhone(phone.e164, page)
    }
  } satisfies AppVerifyService)
}

export default fp(appVerifyPlugin, { name: 'appverify', dependencies: ['config', 'store', 'metrics'] })
