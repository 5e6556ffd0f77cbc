import { Type } from '@sinclair/typebox'
import type { Static } from '@sinclair/typebox'
import { ref } from './common.js'

export const AppVerifyTokenResponseSchema = Type.Object({
  token: Type.String({ description: 'Compact JWT for Telesign App Verify (HS256, header {"alg":"HS256","typ":"JWT"})' }),
  xid: Type.String({ description: 'The transaction id (the path xid, or a fresh UUID v4)', examples: ['7f7e3c3e-94e6-4b8a-9c5c-1f0f3e7a2b11'] }),
  phone_number: Type.String({ description: 'E.164', examples: ['+15551234567'] }),
  expires_at: Type.String({ format: 'date-time' })
}, { $id: 'AppVerifyTokenResponse', title: 'AppVerifyTokenResponse', additionalProperties: false })
export type AppVerifyTokenResponse = Static<typeof AppVerifyTokenResponseSchema>

export const TransactionSchema = Type.Object({
  xid: Type.String({ examples: ['order-42'] }),
  phone_number: Type.String({ description: 'E.164', examples: ['+15551234567'] }),
  issued_at: Type.String({ format: 'date-time', description: 'When this service issued the token (its iat is backdated by APPVERIFY_BACKDATE)' }),
  expires_at: Type.String({ format: 'date-time', description: 'The token\'s exp' }),
  status: Type.Union([Type.Literal('active'), Type.Literal('expired')], { description: 'active until expires_at' })
}, { $id: 'Transaction', title: 'Transaction', additionalProperties: false })
export type Transaction = Static<typeof TransactionSchema>

export const TransactionListSchema = Type.Object({
  items: Type.Array(ref(TransactionSchema), { description: 'Newest first' }),
  next_cursor: Type.Optional(Type.String({ description: 'Pass as `cursor` for the next page; absent on the last page' }))
}, { $id: 'TransactionList', title: 'TransactionList', additionalProperties: false })
export type TransactionList = Static<typeof TransactionListSchema>
