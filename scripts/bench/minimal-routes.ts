// The benchmark's yardstick routes: each route's core work and nothing else (fast-jwt, and a Map
// where the service records something: App Verify transactions and pending verifications). The
// baseline serves them on a bare Fastify; the stock target serves the same routes with the parts
// every route of the service must have, in their stock form. Not part of the service.
import { createHmac, randomBytes, randomInt, randomUUID, timingSafeEqual } from 'node:crypto'
import { createSigner, createVerifier } from 'fast-jwt'
import type { FastifyInstance, RouteShorthandOptions } from 'fastify'

const ISSUER = 'tokenmint'
const EXPIRE_SECONDS = 300

/** Route options per route (schemas, for the stock target); the baseline passes none. */
export type MinimalRouteOptions = Partial<Record<'genJwt' | 'me' | 'appVerify' | 'start' | 'check', RouteShorthandOptions>>

export function minimalRoutes (app: FastifyInstance, options: MinimalRouteOptions = {}): void {
  const accessKey = randomBytes(32)
  const appVerifyKey = randomBytes(32)
  const pepper = randomBytes(32)
  const signAccess = createSigner({ key: accessKey, algorithm: 'HS256', kid: 'bench', iss: ISSUER, aud: ISSUER, header: { alg: 'HS256', typ: 'at+jwt' } })
  const verifyAccess = createVerifier({ key: accessKey, algorithms: ['HS256'], allowedIss: ISSUER, allowedAud: ISSUER, cache: 2048 })
  const signAppVerify = createSigner({ key: appVerifyKey, algorithm: 'HS256', header: { alg: 'HS256', typ: 'JWT' } })
  const appVerifyTokens = new Map<string, { phn: string, token: string }>()
  const verifications = new Map<string, { digest: Buffer, phone: string }>()
  const hmac = (code: string): Buffer => createHmac('sha256', pepper).update(code).digest()

  app.post('/gen-jwt', options.genJwt ?? {}, async (request) => {
    const { instance_id: instanceId } = (request.body ?? {}) as { instance_id?: string }
    const iat = Math.floor(Date.now() / 1000)
    const jti = randomUUID()
    const sub = instanceId === undefined ? 'client:bench' : `instance:${instanceId}`
    const token = signAccess({ sub, iat, exp: iat + EXPIRE_SECONDS, jti, ...(instanceId === undefined ? {} : { instance_id: instanceId }) })
    return { token, token_type: 'Bearer', expires_in: EXPIRE_SECONDS, expires_at: new Date((iat + EXPIRE_SECONDS) * 1000).toISOString(), instance_id: instanceId }
  })

  app.get('/v1/me', options.me ?? {}, async (request) => {
    const claims = verifyAccess((request.headers.authorization ?? '').slice(7)) as Record<string, unknown>
    return { sub: claims.sub, instance_id: claims.instance_id, iat: claims.iat, exp: claims.exp, jti: claims.jti }
  })

  app.get('/v1/token/:phone', options.appVerify ?? {}, async (request, reply) => {
    const { phone } = request.params as { phone: string }
    const iat = Math.floor(Date.now() / 1000) - 10
    const xid = randomUUID()
    const token = signAppVerify({ iss: 'DEV-CUSTOMER-ID', iat, exp: iat + 90, phn: phone, xid })
    appVerifyTokens.set(xid, { phn: phone, token })
    return reply.type('text/plain').send(token)
  })

  // Setup only (not measured): the service sends the code by SMS, the yardstick hands it back.
  app.post('/v1/verifications', options.start ?? {}, async (request, reply) => {
    const { auth_id: authId, recipient } = request.body as { auth_id: string, recipient: string }
    const code = String(randomInt(0, 1_000_000)).padStart(6, '0')
    verifications.set(authId, { digest: hmac(code), phone: recipient })
    return reply.code(201).send({ auth_id: authId, status: 'pending', code })
  })

  app.post('/v1/verifications/check', options.check ?? {}, async (request, reply) => {
    const { auth_id: authId, code } = request.body as { auth_id: string, code: string }
    const pending = verifications.get(authId)
    if (pending === undefined || !timingSafeEqual(pending.digest, hmac(code))) return reply.code(400).send({ authenticated: false })
    verifications.delete(authId)
    const iat = Math.floor(Date.now() / 1000)
    const token = signAccess({ sub: `phone:${pending.phone}`, iat, exp: iat + EXPIRE_SECONDS, jti: randomUUID(), phn: pending.phone, amr: ['sms'], auth_id: authId })
    return { authenticated: true, auth_id: authId, status: 'approved', message: 'Success: Authorization code verified.', token }
  })
}
