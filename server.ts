import cluster from 'node:cluster'
import { existsSync } from 'node:fs'
import closeWithGrace from 'close-with-grace'
import { build } from './app.js'
import { flushLogs } from './server-options.js'
import { apiKeyId } from './lib/api-keys.js'
import { ConfigError, loadConfig } from './lib/config.js'
import type { Config } from './lib/config.js'

const SECRETS_FILE = '.tokenmint/dev-secrets.json'
const GRACE_MS = 10_000
/** Of the grace period, what the last log lines may take to reach a slow reader. */
const LOG_FLUSH_MS = 1_000

// A reader of stdout or stderr that has gone must not crash the banner or the console SMS writer.
for (const stream of [process.stdout, process.stderr]) stream.on('error', () => {})

if (existsSync('.env')) process.loadEnvFile('.env')

let config: Config
try {
  config = loadConfig(process.env, { secretsFile: SECRETS_FILE })
} catch (error) {
  if (!(error instanceof ConfigError)) throw error
  process.stderr.write(`tokenmint refuses to start.\n${error.message}\n`)
  process.exit(1)
}

// WORKERS > 1: this process only starts the workers, each of which runs the code below (the
// configuration, and any generated development secrets, were settled above, once).
if (cluster.isPrimary && config.workers > 1) {
  runWorkers(config.workers)
  await new Promise(() => {})
}

let app: Awaited<ReturnType<typeof build>>
try {
  app = await build({ config })
} catch (error) {
  // A key file that cannot be used is a configuration problem too: a clear message, no stack.
  if (!(error instanceof ConfigError)) throw error
  process.stderr.write(`tokenmint refuses to start.\n${error.message}\n`)
  process.exit(1)
}

closeWithGrace({ delay: GRACE_MS }, async ({ signal, err }) => {
  if (err !== undefined) app.log.error({ reason: err.message }, 'closing after an unexpected error')
  else app.log.info({ signal }, 'closing: finishing in-flight requests')
  await app.close()
  await flushLogs(LOG_FLUSH_MS)
})

try {
  await app.listen({ port: config.port, host: config.host })
} catch (error) {
  const code = (error as { code?: unknown }).code
  if (code !== 'EADDRINUSE' && code !== 'EACCES' && code !== 'EADDRNOTAVAIL') throw error
  const where = `${config.host}:${config.port}`
  process.stderr.write(code === 'EADDRINUSE'
    ? `tokenmint cannot start: ${where} is already in use. Stop the other process or set PORT to a free port (PORT=3001 npm start).\n`
    : code === 'EACCES'
      ? `tokenmint cannot start: no permission to listen on ${where}. Ports below 1024 need privileges: set PORT to 1024 or above.\n`
      : `tokenmint cannot start: ${config.host} is not an address of this machine. Set HOST (127.0.0.1, or 0.0.0.0 for every interface).\n`)
  await app.close()
  process.exit(1)
}
for (const warning of config.warnings) app.log.warn(warning)

// With several workers, the first one speaks for all.
if (config.generatedSecrets.length > 0 && (cluster.isPrimary || cluster.worker?.id === 1)) {
  const base = `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${app.server.address() !== null && typeof app.server.address() === 'object' ? (app.server.address() as { port: number }).port : config.port}`
  const lines = [
    '',
    '  tokenmint is running in development mode with generated secrets',
    `  (kept in ${SECRETS_FILE}; set ${config.generatedSecrets.join(', ')} to use your own).`,
    '',
    // A configured key is the operator's secret: only a key this process generated is shown in full.
    config.generatedSecrets.includes('API_KEYS')
      ? `  API key:     ${config.apiKeys[0] ?? ''}`
      : config.apiKeys.length > 0
        ? `  API keys:    configured in API_KEYS (key ids ${config.apiKeys.map(apiKeyId).join(', ')})`
        : `  API clients: from ${config.apiClientsFile ?? 'nowhere'} (npm run clients -- list)`,
    `  Swagger UI:  ${base}/docs   (Authorize -> apiKey, then try POST /gen-jwt)`,
    `  Store:       ${config.mongodbUrl === undefined ? 'embedded memory store (data is lost on restart)' : 'MongoDB'}`,
    ''
  ]
  process.stdout.write(lines.join('\n') + '\n')
}

/** One log line from the primary, in the workers' (pino's) JSON shape. */
function primaryLog (level: 'info' | 'warn' | 'error', msg: string, fields: Record<string, unknown> = {}): void {
  process.stdout.write(`${JSON.stringify({ level: { info: 30, warn: 40, error: 50 }[level], time: Date.now(), pid: process.pid, role: 'primary', ...fields, msg })}\n`)
}

/**
 * The primary of WORKERS processes sharing one port (node:cluster; the primary hands connections to
 * the workers in turn). A worker that dies is replaced; one that cannot start within 5 s (a port in
 * use, a bad key file) stops them all. SIGTERM or SIGINT is passed on to every worker, which closes
 * gracefully; the primary exits when the last one has.
 */
function runWorkers (count: number): void {
  const startedAt = new Map<number, number>()
  let stopping = false
  let failed = false
  const fork = (): void => {
    const worker = cluster.fork()
    startedAt.set(worker.id, Date.now())
  }
  const stop = (signal: NodeJS.Signals): void => {
    if (stopping) return
    stopping = true
    primaryLog('info', 'closing: asking every worker to finish its requests', { signal })
    for (const worker of Object.values(cluster.workers ?? {})) worker?.process.kill('SIGTERM')
    setTimeout(() => { process.exit(1) }, GRACE_MS + 2_000).unref()
  }
  cluster.on('exit', (worker, code, signal) => {
    const lived = Date.now() - (startedAt.get(worker.id) ?? 0)
    startedAt.delete(worker.id)
    if (stopping) {
      if (Object.keys(cluster.workers ?? {}).length === 0) process.exit(failed ? 1 : 0)
      return
    }
    if (code === 1 && lived < 5_000) {
      primaryLog('error', 'a worker could not start: stopping', { worker: worker.id })
      failed = true
      stop('SIGTERM')
      return
    }
    primaryLog('warn', 'a worker exited: starting another', { worker: worker.id, code, signal })
    fork()
  })
  for (const signal of ['SIGTERM', 'SIGINT'] as const) process.on(signal, () => { stop(signal) })
  primaryLog('info', `starting ${count} workers`, { workers: count })
  for (let i = 0; i < count; i++) fork()
}
