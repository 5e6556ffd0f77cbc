// Benchmark child: the yardstick routes (./minimal-routes.ts) on a bare Fastify: no logger, no
// hooks, no schemas. Not part of the service.
import Fastify from 'fastify'
import { serveForBench } from './child.js'
import { minimalRoutes } from './minimal-routes.js'

const app = Fastify()
minimalRoutes(app)
await serveForBench(app, 'baseline-needs-no-key')
