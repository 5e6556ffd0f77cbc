import Fastify from 'fastify'
import fp from 'fastify-plugin'
import type { FastifyInstance } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import type { Config } from './lib/config.js'
import type { Store } from './lib/store.js'
import { serverOptions } from './server-options.js'
import httpPlugin from './plugins/http.js'
import configPlugin from './plugins/config.js'
import metricsPlugin from './plugins/metrics.js'
import schemasPlugin from './plugins/schemas.js'
import storePlugin from './plugins/store.js'
import keysPlugin from './plugins/keys.js'
import jwtPlugin from './plugins/jwt.js'
import sessionsPlugin from './plugins/sessions.js'
import eventsPlugin from './plugins/events.js'
import appVerifyPlugin from './plugins/appverify.js'
import smsPlugin from './plugins/sms.js'
import verificationsPlugin from './plugins/verifications.js'
import accountsPlugin from './plugins/accounts.js'
import clientsPlugin from './plugins/clients.js'
import rateLimitPlugin from './plugins/rate-limit.js'
import authPlugin from './plugins/auth.js'
import errorsPlugin from './plugins/errors.js'
import swaggerPlugin from './plugins/swagger.js'
import corsPlugin from './plugins/cors.js'
import routes from './routes/index.js'

export interface AppOptions {
  config: Config
  /** A prepared store (tests inject faults through it); by default chosen from the config. */
  store?: Store
}

/** The whole service as one plugin: configuration and schemas, storage and keys, then the routes. */
export default async function app (fastify: FastifyInstance, options: AppOptions): Promise<void> {
  await fastify.register(httpPlugin)
  await fastify.register(configPlugin, { config: options.config })
  await fastify.register(metricsPlugin)
  await fastify.register(schemasPlugin)
  await fastify.register(storePlugin, options.store === undefined ? {} : { store: options.store })
  await fastify.register(eventsPlugin)
  await fastify.register(keysPlugin)
  await fastify.register(jwtPlugin)
  await fastify.register(sessionsPlugin)
  await fastify.register(appVerifyPlugin)
  await fastify.register(smsPlugin)
  await fastify.register(verificationsPlugin)
  await fastify.register(accountsPlugin)
  await fastify.register(clientsPlugin)
  // rate-limit, auth and swagger hook onRoute, so they come before any route.
  await fastify.register(rateLimitPlugin)
  await fastify.register(authPlugin)
  await fastify.register(errorsPlugin)
  await fastify.register(swaggerPlugin)
  await fastify.register(corsPlugin)

  await fastify.register(routes)
}

/** Builds the service exactly as server.ts runs it. */
export async function build (options: AppOptions): Promise<FastifyInstance> {
  const fastify = Fastify(serverOptions(options.config)).withTypeProvider<TypeBoxTypeProvider>()
  // fastify-plugin: the app's decorators (store, swagger, ...) stay visible to the caller and tests.
  await fastify.register(fp(app, { name: 'tokenmint' }), options)
  return fastify
}
