// What every benchmark child does once its app is built: listen on loopback, tell the parent
// (scripts/bench.ts) its port, answer its questions over IPC, and close when the parent goes.
import type { FastifyInstance } from 'fastify'

/**
 * Listens on loopback and answers the benchmark over IPC: CPU time around each run (CPU per request
 * does not depend on other load on the machine) and memory during the sustained run.
 */
export async function serveForBench (app: FastifyInstance, apiKey: string): Promise<void> {
  await app.listen({ host: '127.0.0.1', port: 0 })
  const address = app.server.address()
  process.send?.({ port: typeof address === 'object' && address !== null ? address.port : 0, apiKey })
  process.on('message', (message) => {
    if (message === 'mem') process.send?.({ mem: process.memoryUsage() })
    else process.send?.({ cpu: process.cpuUsage() })
  })
  process.on('disconnect', () => { app.close().then(() => process.exit(0), () => process.exit(1)) })
}
