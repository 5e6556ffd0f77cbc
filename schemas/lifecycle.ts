import { Type } from '@sinclair/typebox'
import type { Static } from '@sinclair/typebox'
import { ref } from './common.js'

// Lengths here only bound the input; the real rules (NFKC, 3..64 [a-z0-9._-], 8..128) live in lib/passwords.ts.
const username = Type.String({ minLength: 1, maxLength: 256, description: '3..64 characters of [a-z0-9._-] after NFKC and lower-casing', examples: ['alice'] })
const password = Type.String({ minLength: 1, maxLength: 512, description: '8..128 characters after NFKC; stored only as a scrypt hash', examples: ['correct horse battery staple'] })

export const CredentialsSchema = Type.Object({
  username,
  password,
  dpop_jkt: Type.Optional(Type.String({
    pattern: '^[A-Za-z0-9_-]{43}$',
    description: 'RFC 7638 SHA-256 thumbprint of the client\'s DPoP public key: the token is bound to that key (cnf.jkt, token_type DPoP)'
  }))
}, {
  $id: 'Credentials',
  title: 'Credentials',
  additionalProperties: false,
  'x-request-examples': {
    alice: { summary: 'A user', value: { username: 'alice', password: 'correct horse battery staple' } }
  }
})
export type Credentials = Static<typeof CredentialsSchema>

export const UserSchema = Type.Object({
  username: Type.String({ examples: ['alice'] }),
  created_at: Type.String({ format: 'date-time' })
}, { $id: 'User', title: 'User', additionalProperties: false })

export const TokenRequestSchema = Type.Object({
  token: Type.String({ minLength: 1, maxLength: 8192, description: 'The access token (compact JWT)' }),
  token_type_hint: Type.Optional(Type.String({ maxLength: 64, description: 'RFC 7009/7662 hint; only access tokens exist here, so it is ignored' })),
  client_id: Type.Optional(Type.String({ maxLength: 256, description: 'client_secret_post (form bodies only): the API client\'s id' })),
  client_secret: Type.Optional(Type.String({ maxLength: 512, description: 'client_secret_post (form bodies only): the API client\'s secret; never logged' }))
}, { $id: 'TokenRequest', title: 'TokenRequest', additionalProperties: false })
export type TokenRequest = Static<typeof TokenRequestSchema>

export const RevocationResponseSchema = Type.Object({}, {
  $id: 'RevocationResponse',
  title: 'RevocationResponse',
  additionalProperties: false,
  description: 'Always empty (RFC 7009): the answer does not say whether the token was valid'
})

export const IntrospectionSchema = Type.Object({
  active: Type.Boolean(),
  sub: Type.Optional(Type.String()),
  iss: Type.Optional(Type.String()),
  aud: Type.Optional(Type.String()),
  iat: Type.Optional(Type.Integer()),
  exp: Type.Optional(Type.Integer()),
  jti: Type.Optional(Type.String()),
  token_type: Type.Optional(Type.Union([Type.Literal('Bearer'), Type.Literal('DPoP')], { description: 'DPoP for key-bound tokens (RFC 9449 §6.2)' })),
  instance_id: Type.Optional(Type.String()),
  cnf: Type.Optional(Type.Object({ jkt: Type.String() }, { additionalProperties: false })),
  amr: Type.Optional(Type.Array(Type.String())),
  username: Type.Optional(Type.String({ description: 'For login tokens' })),
  client_id: Type.Optional(Type.String({ description: 'The API client that minted the token (RFC 9068)' }))
}, { $id: 'Introspection', title: 'Introspection', additionalProperties: false })
export type Introspection = Static<typeof IntrospectionSchema>

export const JwkSchema = Type.Object({
  kty: Type.Union([Type.Literal('EC'), Type.Literal('OKP')]),
  crv: Type.Union([Type.Literal('P-256'), Type.Literal('Ed25519')]),
  x: Type.String(),
  y: Type.Optional(Type.String()),
  kid: Type.String(),
  alg: Type.Union([Type.Literal('ES256'), Type.Literal('EdDSA')]),
  use: Type.Literal('sig')
}, { $id: 'Jwk', title: 'Jwk', additionalProperties: false, description: 'A public verification key (never private or symmetric members)' })

export const JwksSchema = Type.Object({
  keys: Type.Array(ref(JwkSchema))
}, { $id: 'Jwks', title: 'Jwks', additionalProperties: false })

export const AuthorizationServerMetadataSchema = Type.Object({
  issuer: Type.String({ description: 'PUBLIC_URL (or, without it, the URL this request reached)' }),
  jwks_uri: Type.String(),
  revocation_endpoint: Type.String(),
  revocation_endpoint_auth_methods_supported: Type.Array(Type.String()),
  introspection_endpoint: Type.String(),
  introspection_endpoint_auth_methods_supported: Type.Array(Type.String()),
  token_endpoint: Type.String(),
  token_endpoint_auth_methods_supported: Type.Array(Type.String()),
  grant_types_supported: Type.Array(Type.String()),
  dpop_signing_alg_values_supported: Type.Array(Type.String()),
  service_documentation: Type.String()
}, { $id: 'AuthorizationServerMetadata', title: 'AuthorizationServerMetadata', additionalProperties: false })

export const TokenGrantRequestSchema = Type.Object({
  grant_type: Type.String({ maxLength: 64, description: '`refresh_token` or `client_credentials`', examples: ['refresh_token'] }),
  refresh_token: Type.Optional(Type.String({ maxLength: 128, description: 'grant_type=refresh_token: the refresh token; spent by this request' })),
  client_id: Type.Optional(Type.String({ maxLength: 256, description: 'The client: a public client (a mobile app refreshing) sends it alone; it must be the session\'s client' })),
  client_secret: Type.Optional(Type.String({ maxLength: 512, description: 'client_secret_post (form bodies only); never logged' })),
  scope: Type.Optional(Type.String({ maxLength: 512, description: 'Accepted and ignored: a refreshed token keeps the session\'s grant' }))
}, {
  $id: 'TokenGrantRequest',
  title: 'TokenGrantRequest',
  additionalProperties: false,
  'x-request-examples': {
    refresh: { summary: 'Refresh (a mobile app, form-encoded in practice)', value: { grant_type: 'refresh_token', refresh_token: 'rt_...', client_id: 'backend' } },
    clientCredentials: { summary: 'Client credentials (with HTTP Basic or X-API-Key)', value: { grant_type: 'client_credentials' } }
  }
})
export type TokenGrantRequest = Static<typeof TokenGrantRequestSchema>

export const OAuthTokenResponseSchema = Type.Object({
  access_token: Type.String({ description: 'Compact JWT (typ at+jwt)' }),
  token_type: Type.Union([Type.Literal('Bearer'), Type.Literal('DPoP')]),
  expires_in: Type.Integer({ examples: [300] }),
  refresh_token: Type.Optional(Type.String({ pattern: '^rt_[A-Za-z0-9_-]{43}$', description: 'The next refresh token of the session; the one presented is spent' }))
}, { $id: 'OAuthTokenResponse', title: 'OAuthTokenResponse', description: 'RFC 6749 section 5.1', additionalProperties: false })

export const PasswordChangeSchema = Type.Object({
  current_password: password,
  new_password: password
}, {
  $id: 'PasswordChange',
  title: 'PasswordChange',
  additionalProperties: false,
  'x-request-examples': { change: { summary: 'A new password', value: { current_password: 'correct horse battery staple', new_password: 'a much longer passphrase now' } } }
})

export const PasswordResetSchema = Type.Object({ password }, {
  $id: 'PasswordReset',
  title: 'PasswordReset',
  additionalProperties: false,
  'x-request-examples': { reset: { summary: 'Set a password', value: { password: 'a temporary passphrase' } } }
})
