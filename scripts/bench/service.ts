// Benchmark child: the real service (same build() and server options as server.ts), on loopback.
import { build } from '../../app.js'
import { loadConfig } from '../../lib/config.js'

const config = loadConfig(process.env, { secretsFile: null })
const app = await build({ config })
await app.listen({ host: '127.0.0.1', port: 0 })
const address = app.server.address()
process.send?.({ port: typeof address === 'object' && address !== null ? address.port : 0, apiKey: config.apiKeys[0] })
// The benchmark asks for CPU time around each run (CPU per request does not depend on other load),
// and for memory during the sustained run.
process.on('message', (message) => {
  if (message === 'mem') process.send?.({ mem: process.memoryUsage() })
  else process.send?.({ cpu: process.cpuUsage() })
})
process.on('disconnect', () => { app.close().then(() => process.exit(0), () => process.exit(1)) })
