import { Type } from '@sinclair/typebox'
import type { Static } from '@sinclair/typebox'

const AuthId = Type.String({ minLength: 1, maxLength: 120, description: 'Your id for this verification (Flowroute auth_id)', examples: ['signup-42'] })
const MaskedRecipient = Type.String({ description: 'The recipient, masked', examples: ['+1******4567'] })
const Status = Type.Union([
  Type.Literal('pending'), Type.Literal('approved'), Type.Literal('expired'), Type.Literal('max_attempts_reached'), Type.Literal('canceled')
], { description: 'pending → approved | expired | max_attempts_reached | canceled' })

export const StartVerificationRequestSchema = Type.Object({
  auth_id: AuthId,
  recipient: Type.Union([
    Type.String({ maxLength: 32, description: 'E.164 (+15551234567) or 11-digit NANP (15551234567)' }),
    Type.Integer({ description: 'The 11-digit NANP form as a JSON number, as Flowroute accepts it' })
  ])
}, {
  $id: 'StartVerificationRequest',
  title: 'StartVerificationRequest',
  additionalProperties: false,
  'x-request-examples': {
    e164: { summary: 'E.164 recipient', value: { auth_id: 'signup-42', recipient: '+15551234567' } },
    flowroute: { summary: 'Flowroute style: 11-digit number', value: { auth_id: 'signup-42', recipient: 15551234567 } }
  }
})
export type StartVerificationRequest = Static<typeof StartVerificationRequestSchema>

export const VerificationStartedSchema = Type.Object({
  auth_id: Type.String(),
  status: Type.Literal('pending'),
  recipient: MaskedRecipient,
  expires_at: Type.String({ format: 'date-time', description: 'When the code just sent stops being valid' }),
  attempts_left: Type.Integer({ description: 'Wrong codes still allowed (a resend does not restore them)', examples: [3] }),
  sends_left: Type.Integer({ description: 'Further SMS allowed for this auth_id', examples: [4] })
}, { $id: 'VerificationStarted', title: 'VerificationStarted', additionalProperties: false })

export const CheckVerificationRequestSchema = Type.Object({
  auth_id: AuthId,
  code: Type.String({ pattern: '^[0-9]{4,10}$', description: 'Exactly CODE_LENGTH ASCII digits, as a string', examples: ['123456'] })
}, {
  $id: 'CheckVerificationRequest',
  title: 'CheckVerificationRequest',
  additionalProperties: false,
  'x-request-examples': {
    check: { summary: 'Check a code', value: { auth_id: 'signup-42', code: '123456' } }
  }
})
export type CheckVerificationRequest = Static<typeof CheckVerificationRequestSchema>

export const VerificationApprovedSchema = Type.Object({
  authenticated: Type.Literal(true),
  auth_id: Type.String(),
  status: Type.Literal('approved'),
  message: Type.Literal('Success: Authorization code verified.'),
  token: Type.Optional(Type.String({ description: 'Verified-phone access token (claims phn, amr ["sms"], auth_id) unless VERIFIED_TOKEN=false' }))
}, { $id: 'VerificationApproved', title: 'VerificationApproved', additionalProperties: false })

export const VerificationSchema = Type.Object({
  auth_id: Type.String(),
  status: Status,
  recipient: MaskedRecipient,
  created_at: Type.String({ format: 'date-time' }),
  expires_at: Type.String({ format: 'date-time', description: 'Expiry of the latest code' }),
  attempts_left: Type.Integer(),
  sends_left: Type.Integer(),
  ended_at: Type.Optional(Type.String({ format: 'date-time', description: 'When it was approved or canceled' })),
  delivery: Type.Optional(Type.Union([
    Type.Literal('queued'), Type.Literal('sent'), Type.Literal('delivered'), Type.Literal('failed'), Type.Literal('undelivered')
  ], { description: 'The latest SMS as its provider reports it (Twilio status callbacks, with PUBLIC_URL); absent when the provider reports nothing' }))
}, { $id: 'Verification', title: 'Verification', additionalProperties: false })

/** The check routes' 400: a problem document plus Flowroute's reason, message, status and attempts_left. */
export const VerificationProblemSchema = Type.Object({
  type: Type.String(),
  title: Type.String(),
  status: Type.Integer({ description: 'The HTTP status (RFC 9457)', examples: [400] }),
  detail: Type.String(),
  code: Type.String({
    description: 'invalid_auth_code, expired_auth_code, unknown_auth_id, invalid_api_usage (or malformed_json, unsupported_media_type)',
    examples: ['invalid_auth_code']
  }),
  reason: Type.Optional(Type.Union([
    Type.Literal('InvalidAuthCode'), Type.Literal('ExpiredAuthCode'), Type.Literal('UnknownAuthId'), Type.Literal('InvalidAPIUsage')
  ], { description: 'Flowroute reason' })),
  message: Type.Optional(Type.String({ description: 'Flowroute message (same as detail)' })),
  attempts_left: Type.Optional(Type.Integer({ description: 'Wrong codes still allowed, where known' })),
  verification_status: Type.Optional(Type.Union([
    Type.Literal('pending'), Type.Literal('approved'), Type.Literal('expired'), Type.Literal('max_attempts_reached'), Type.Literal('canceled')
  ], { description: "The verification's status (Flowroute's status; `status` itself is the HTTP status)" }))
}, { $id: 'VerificationProblem', title: 'VerificationProblem', additionalProperties: true })
