import { HealthSchema, OAuthErrorSchema, ProblemSchema, ServiceIndexSchema } from './common.js'
import { AuthorizationServerMetadataSchema, CredentialsSchema, IntrospectionSchema, JwkSchema, JwksSchema, OAuthTokenResponseSchema, PasswordChangeSchema, PasswordResetSchema, RevocationResponseSchema, TokenGrantRequestSchema, TokenRequestSchema, UserSchema } from './lifecycle.js'
import { GenJwtRequestSchema, MeResponseSchema, TokenResponseSchema } from './tokens.js'
import { WebhookDeliveryListSchema, WebhookDeliverySchema } from './events.js'
import { AppVerifyTokenResponseSchema, TransactionListSchema, TransactionSchema } from './appverify.js'
import {
  CheckVerificationRequestSchema,
  StartVerificationRequestSchema,
  VerificationApprovedSchema,
  VerificationProblemSchema,
  VerificationSchema,
  VerificationStartedSchema
} from './verifications.js'

/** Every shared schema, registered once with addSchema so OpenAPI names them as components. */
export const sharedSchemas = [
  ProblemSchema,
  OAuthErrorSchema,
  HealthSchema,
  ServiceIndexSchema,
  AuthorizationServerMetadataSchema,
  TokenGrantRequestSchema,
  PasswordChangeSchema,
  PasswordResetSchema,
  OAuthTokenResponseSchema,
  WebhookDeliverySchema,
  WebhookDeliveryListSchema,
  GenJwtRequestSchema,
  TokenResponseSchema,
  MeResponseSchema,
  AppVerifyTokenResponseSchema,
  TransactionSchema,
  TransactionListSchema,
  StartVerificationRequestSchema,
  VerificationStartedSchema,
  CheckVerificationRequestSchema,
  VerificationApprovedSchema,
  VerificationSchema,
  VerificationProblemSchema,
  CredentialsSchema,
  UserSchema,
  TokenRequestSchema,
  RevocationResponseSchema,
  IntrospectionSchema,
  JwkSchema,
  JwksSchema
]
