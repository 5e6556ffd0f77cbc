// Benchmark child: the real service (same build() and server options as server.ts), on loopback.
import { build } from '../../app.js'
import { loadConfig } from '../../lib/config.js'
import { serveForBench } from './child.js'

const config = loadConfig(process.env, { secretsFile: null })
await serveForBench(await build({ config }), config.apiKeys[0] ?? '')
