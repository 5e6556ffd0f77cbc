import { Type } from '@sinclair/typebox'
import type { Static } from '@sinclair/typebox'

export const GenJwtRequestSchema = Type.Object({
  instance_id: Type.Optional(Type.String({
    minLength: 1,
    maxLength: 256,
    description: 'The app instance (device) the token is bound to; recommended. Send it back in X-Instance-Id.'
  })),
  dpop_jkt: Type.Optional(Type.String({
    pattern: '^[A-Za-z0-9_-]{43}$',
    description: 'RFC 7638 SHA-256 thumbprint of the device\'s DPoP public key: the token carries it as cnf.jkt and ' +
      'is then accepted only as `Authorization: DPoP <token>` with a DPoP proof signed by that key (RFC 9449).'
  }))
}, {
  $id: 'GenJwtRequest',
  title: 'GenJwtRequest',
  additionalProperties: false,
  'x-request-examples': {
    device_bound: { summary: 'Device-bound token (recommended)', value: { instance_id: '123445' } },
    generic: { summary: 'Generic token for this API client', value: {} },
    dpop_bound: { summary: 'Token bound to a device key (DPoP)', value: { instance_id: '123445', dpop_jkt: '0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I' } }
  }
})
export type GenJwtRequest = Static<typeof GenJwtRequestSchema>

export const TokenResponseSchema = Type.Object({
  token: Type.String({ description: 'Compact JWT (typ at+jwt)' }),
  token_type: Type.Union([Type.Literal('Bearer'), Type.Literal('DPoP')], { description: 'DPoP for a token bound to a key (dpop_jkt), sent as Authorization: DPoP with a proof' }),
  expires_in: Type.Integer({ description: 'Seconds until the token expires', examples: [300] }),
  expires_at: Type.String({ format: 'date-time' }),
  instance_id: Type.Optional(Type.String()),
  refresh_token: Type.Optional(Type.String({
    pattern: '^rt_[A-Za-z0-9_-]{43}$',
    description: 'With REFRESH_TOKENS, for device-bound, key-bound and login tokens: exchange it at POST /oauth/token (grant_type=refresh_token) for a new pair; each is good once'
  }))
}, { $id: 'TokenResponse', title: 'TokenResponse', additionalProperties: false })
export type TokenResponse = Static<typeof TokenResponseSchema>

export const MeResponseSchema = Type.Object({
  sub: Type.String({ examples: ['instance:123445'] }),
  instance_id: Type.Optional(Type.String()),
  iat: Type.Integer(),
  exp: Type.Integer(),
  jti: Type.String(),
  amr: Type.Optional(Type.Array(Type.String()))
}, { $id: 'MeResponse', title: 'MeResponse', additionalProperties: false })
export type MeResponse = Static<typeof MeResponseSchema>
