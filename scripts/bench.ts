// npm run bench: autocannon against the real service, a minimal Fastify baseline and the same
// minimal routes with the stock parts every service route needs (scripts/bench/stock.ts), side by
// side. All three run as child processes on loopback; autocannon runs here. Each route is measured in
// BENCH_ROUNDS alternating rounds per target and the best round is kept, so a burst of load from
// elsewhere on the machine hurts one round, not the comparison. Settings: BENCH_DURATION (s, per
// round), BENCH_WARMUP (s), BENCH_CONNECTIONS, BENCH_POOL (verifications checked per
// target), BENCH_LOG_LEVEL (service log level, default info), BENCH_ROUTES (substring filter on the
// route names), BENCH_STOCK_PARTS (the stock target's parts, scripts/bench/stock.ts),
// BENCH_NODE_OPTIONS (the service's Node options instead of the Dockerfile's NODE_OPTIONS),
// BENCH_CPU_PROF=1 (write .cpuprofile files of the three servers and print where their CPU went,
// scripts/bench/profile.ts), BENCH_SUSTAIN (s of sustained mixed load on the service after the
// table, sampling its memory; 0 to skip).
import { fork } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { closeSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { availableParallelism, cpus, tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import autocannon from 'autocannon'
import { FloodGuard } from '../lib/flood-guard.js'
import { createMetrics, createRequestHistogram } from '../plugins/metrics.js'
import { report as profileReport } from './bench/profile.js'
import type { Options, RawRequest, Result } from 'autocannon'

const DURATION = Number(process.env.BENCH_DURATION ?? 5)
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3)
const WARMUP = Number(process.env.BENCH_WARMUP ?? 2)
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 10)
const POOL = Number(process.env.BENCH_POOL ?? 4000)
const LOG_LEVEL = process.env.BENCH_LOG_LEVEL ?? 'info'
const CPU_PROF = process.env.BENCH_CPU_PROF === '1'
const ROUTES = process.env.BENCH_ROUTES ?? ''
const SUSTAIN = Number(process.env.BENCH_SUSTAIN ?? 60)
const API_KEY = 'bench-api-key-0123456789abcdef'
const WEBHOOK_SECRET = 'bench-webhook-secret-0123456789abcdef'
const INSTANCE_ID = '123445'

type Kind = 'service' | 'baseline' | 'stock'
const KINDS: Kind[] = ['service', 'baseline', 'stock']

interface Target {
  kind: Kind
  base: string
  apiKey: string
  /** CPU time (user + system, µs) the server process has used so far. */
  cpuTime: () => Promise<number>
  /** The server process's process.memoryUsage(). */
  memory: () => Promise<NodeJS.MemoryUsage>
}

/** What autocannon sends: a fixed request for `duration`, or a pool of distinct ones (`amount`). */
type Load = Omit<Options, 'url' | 'connections' | 'duration'>

/** A route under test is missing from this build (or refuses the setup): reported, not measured. */
class Unavailable extends Error {}

interface Scenario {
  name: string
  prepare (target: Target, size: number): Promise<Load>
}

/** Codes the service "texts" through SMS_PROVIDER=webhook, by auth_id. */
const inbox = new Map<string, string>()

async function call (target: Target, method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Record<string, unknown>> {
  const response = await fetch(`${target.base}${path}`, {
    method,
    headers: { 'x-api-key': target.apiKey, ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
    ...(body === undefined ? {} : { body: JSON.stringify(body) })
  })
  const text = await response.text()
  if (response.status === 404) throw new Unavailable(`${method} ${path.split('?')[0] ?? path} answers 404`)
  if (!response.ok) throw new Unavailable(`${method} ${path} answers ${response.status}: ${text.slice(0, 120)}`)
  return (response.headers.get('content-type') ?? '').includes('json') ? JSON.parse(text) as Record<string, unknown> : { text }
}

const scenarios: Scenario[] = [
  {
    name: 'POST /gen-jwt',
    async prepare (target) {
      const body = JSON.stringify({ instance_id: INSTANCE_ID })
      await call(target, 'POST', '/gen-jwt', { instance_id: INSTANCE_ID })
      return { method: 'POST', requests: [{ path: '/gen-jwt', headers: { 'x-api-key': target.apiKey, 'content-type': 'application/json' }, body }] }
    }
  },
  {
    name: 'GET /v1/me',
    async prepare (target) {
      const { token } = await call(target, 'POST', '/gen-jwt', { instance_id: INSTANCE_ID })
      const headers = { authorization: `Bearer ${String(token)}`, 'x-instance-id': INSTANCE_ID }
      await call(target, 'GET', '/v1/me', undefined, headers)
      return { method: 'GET', requests: [{ path: '/v1/me', headers }] }
    }
  },
  {
    name: 'GET /v1/token/{phone}',
    async prepare (target) {
      const path = `/v1/token/${encodeURIComponent('+15555550100')}`
      await call(target, 'GET', path)
      return { method: 'GET', requests: [{ path, headers: { 'x-api-key': target.apiKey } }] }
    }
  },
  {
    name: 'POST /v1/verifications/check',
    async prepare (target, size) {
      // A code is single-use: each request checks a different pending verification, created here.
      const run = Math.random().toString(36).slice(2, 8)
      const pool: Array<{ auth_id: string, code: string }> = []
      const ids = Array.from({ length: size }, (_, i) => `bench-${target.kind}-${run}-${i}`)
      for (let i = 0; i < ids.length; i += CONNECTIONS) {
        await Promise.all(ids.slice(i, i + CONNECTIONS).map(async (authId, j) => {
          const created = await call(target, 'POST', '/v1/verifications', { auth_id: authId, recipient: `+1555555${String((i + j) % 10_000).padStart(4, '0')}` })
          const code = typeof created.code === 'string' ? created.code : await codeFromInbox(authId)
          pool.push({ auth_id: authId, code })
        }))
      }
      const first = pool.shift()
      if (first === undefined) throw new Unavailable('no verification was created')
      await call(target, 'POST', '/v1/verifications/check', first)
      let next = 0
      return {
        method: 'POST',
        amount: pool.length,
        requests: [{
          path: '/v1/verifications/check',
          headers: { 'x-api-key': target.apiKey, 'content-type': 'application/json' },
          setupRequest: (request: RawRequest) => ({ ...request, body: JSON.stringify(pool[next++ % pool.length]) })
        }]
      }
    }
  }
]

async function codeFromInbox (authId: string): Promise<string> {
  for (let waited = 0; waited < 2_000; waited += 10) {
    const code = inbox.get(authId)
    if (code !== undefined) return code
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
  throw new Unavailable('no code arrived at the SMS webhook')
}

/** Stands in for the SMS provider: keeps the code of every message the service sends. */
async function startSmsWebhook (): Promise<{ url: string, close: () => void }> {
  const server = createServer((request, response) => {
    let raw = ''
    request.on('data', (chunk: Buffer) => { raw += chunk.toString() })
    request.on('end', () => {
      try {
        const message = JSON.parse(raw) as { auth_id?: string, body?: string }
        const code = /\b(\d{4,10})\b/.exec(message.body ?? '')?.[1]
        if (message.auth_id !== undefined && code !== undefined) inbox.set(message.auth_id, code)
      } catch {}
      response.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}')
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/sms`, close: () => server.close() }
}

async function startChild (kind: Kind, env: NodeJS.ProcessEnv, stdout: number | 'ignore', execArgv: string[]): Promise<{ target: Target, child: ChildProcess }> {
  // Both servers run as built (npm run bench builds first when the sources changed): plain Node, no TypeScript loader.
  const file = fileURLToPath(new URL(`../dist/scripts/bench/${kind}.js`, import.meta.url))
  const child = fork(file, [], { env, execArgv, stdio: ['ignore', stdout, 'inherit', 'ipc'] })
  const ready = await new Promise<{ port: number, apiKey: string }>((resolve, reject) => {
    child.once('message', (message) => { resolve(message as { port: number, apiKey: string }) })
    child.once('exit', (code) => { reject(new Error(`the ${kind} process exited (${code ?? 'signal'}) before listening`)) })
  })
  const ask = async <T>(question: 'cpu' | 'mem'): Promise<T> => await new Promise((resolve) => {
    child.once('message', (message) => { resolve(message as T) })
    child.send(question)
  })
  const cpuTime = async (): Promise<number> => {
    const { cpu } = await ask<{ cpu: NodeJS.CpuUsage }>('cpu')
    return cpu.user + cpu.system
  }
  const memory = async (): Promise<NodeJS.MemoryUsage> => (await ask<{ mem: NodeJS.MemoryUsage }>('mem')).mem
  return { target: { kind, base: `http://127.0.0.1:${ready.port}`, apiKey: ready.apiKey, cpuTime, memory }, child }
}

interface Measured extends Result {
  /** Latencies of 2xx answers in ms, sorted; autocannon's own histogram rounds to whole ms. */
  latencies: Float64Array
  /** Server CPU time per request in µs: unlike req/s, barely moved by other load on the machine. */
  cpuPerRequest: number
}

async function load (target: Target, options: Load, duration: number): Promise<Measured> {
  const latencies: number[] = []
  const cpuBefore = await target.cpuTime()
  const started = performance.now()
  let lastResponse = started
  const instance = autocannon({ url: target.base, connections: CONNECTIONS, ...(options.amount === undefined ? { duration } : {}), ...options })
  instance.on('response', (_client, status, _bytes, time) => {
    lastResponse = performance.now()
    if (status >= 200 && status < 300) latencies.push(time)
  })
  const result = await instance
  const cpu = await target.cpuTime() - cpuBefore
  // autocannon stops on a whole-second tick, so with `amount` its duration overstates the run.
  const seconds = (lastResponse - started) / 1000
  return { ...result, duration: seconds, latencies: Float64Array.from(latencies).sort(), cpuPerRequest: cpu / Math.max(1, result.requests.total) }
}

function percentile (sorted: Float64Array, p: number): number {
  return sorted.length === 0 ? Number.NaN : sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? Number.NaN
}

interface Row { name: string, service?: Measured, baseline?: Measured, stock?: Measured, note?: string }

const rps = (result: Result): number => result.requests.total / result.duration
const ms = (latencies: Float64Array, p: number): string => `${percentile(latencies, p).toFixed(2)} ms`
const percent = (ratio: number): string => `${Math.round(ratio * 100)}%`

function table (rows: Row[]): string {
  const lines = [
    '| route | service req/s | p50 | p99 | CPU/req | baseline req/s | p50 | p99 | CPU/req | req/s ratio | CPU ratio |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|'
  ]
  const side = (r: Measured): string => `${Math.round(rps(r))} | ${ms(r.latencies, 0.5)} | ${ms(r.latencies, 0.99)} | ${Math.round(r.cpuPerRequest)} µs`
  for (const row of rows) {
    if (row.service === undefined || row.baseline === undefined) {
      lines.push(`| ${row.name} | not available: ${row.note ?? ''} | | | | | | | | | |`)
      continue
    }
    const { service, baseline } = row
    const failed = (r: Measured): number => r.non2xx + r.errors + r.timeouts
    const flags = failed(service) + failed(baseline) > 0 ? ` (non-2xx/errors: ${failed(service)} / ${failed(baseline)})` : ''
    lines.push(`| ${row.name} | ${side(service)} | ${side(baseline)} | ${percent(rps(service) / rps(baseline))}${flags} | ` +
      `${percent(baseline.cpuPerRequest / service.cpuPerRequest)} |`)
  }
  return lines.join('\n')
}

/**
 * The same minimal routes with the stock parts (scripts/bench/stock.ts): baseline CPU / stock CPU is
 * the most any service built from these packages reaches against the minimal route, and stock CPU /
 * service CPU is how much of what is left the service spends on its own work.
 */
function stockTable (rows: Row[]): string {
  const lines = [
    '| route | stock req/s | p50 | p99 | CPU/req | baseline CPU / stock CPU | stock CPU / service CPU |',
    '|---|---:|---:|---:|---:|---:|---:|'
  ]
  for (const { name, service, baseline, stock } of rows) {
    if (service === undefined || baseline === undefined || stock === undefined) continue
    const failed = stock.non2xx + stock.errors + stock.timeouts
    lines.push(`| ${name} | ${Math.round(rps(stock))}${failed > 0 ? ` (non-2xx/errors: ${failed})` : ''} | ${ms(stock.latencies, 0.5)} | ${ms(stock.latencies, 0.99)} | ` +
      `${Math.round(stock.cpuPerRequest)} µs | ${percent(baseline.cpuPerRequest / stock.cpuPerRequest)} | ${percent(stock.cpuPerRequest / service.cpuPerRequest)} |`)
  }
  return lines.join('\n')
}

/**
 * The per-address flood guard when a flood comes from more addresses than it keeps windows for
 * (its default 100,000, every window live): the CPU of one request from a new address.
 */
function floodGuardCost (): string {
  const keys = 100_000
  const guard = new FloodGuard(1_000_000, 60_000, keys, () => 0)
  for (let i = 0; i < keys; i++) guard.hit(`address-${i}`)
  const count = 20_000
  const started = process.cpuUsage()
  for (let i = 0; i < count; i++) guard.hit(`new-address-${i}`)
  const used = process.cpuUsage(started)
  return `Flood guard full (${keys.toLocaleString('en')} live windows): ${((used.user + used.system) / count).toFixed(2)} µs of CPU per request from a new address.`
}

/**
 * What /metrics costs each request: the service's onResponse histogram observation (the counters
 * a route bumps are cheaper still), timed here on the same prom-client objects the plugin builds.
 */
function metricsCost (rows: Row[]): string {
  const metrics = createMetrics()
  const histogram = createRequestHistogram(metrics.registry)
  const count = 200_000
  const started = process.cpuUsage()
  for (let i = 0; i < count; i++) {
    histogram.labels('/v1/token/:phone_number', 'GET', '200').observe(0.0012)
    metrics.tokenIssued('app_verify')
  }
  const used = process.cpuUsage(started)
  const perRequest = (used.user + used.system) / count
  const shares = rows.filter((row) => row.service !== undefined).map((row) => `${row.name} ${((perRequest / (row.service?.cpuPerRequest ?? Infinity)) * 100).toFixed(1)}%`)
  return `Metrics: one histogram observation and one counter per request cost ${perRequest.toFixed(2)} µs of CPU, ` +
    `of the service's CPU per request: ${shares.join(', ')}.`
}

const logDir = mkdtempSync(join(tmpdir(), 'tokenmint-bench-'))
const logFile = join(logDir, 'service.log')
const logFd = openSync(logFile, 'a')
const webhook = await startSmsWebhook()
const serviceEnv: NodeJS.ProcessEnv = {
  ...process.env,
  NODE_ENV: 'development',
  LOG_LEVEL,
  API_KEYS: API_KEY,
  RATE_LIMIT_MAX: '1000000',
  RATE_LIMIT_WINDOW: '1 minute',
  RATE_LIMIT_CLIENT: '100000000 per minute',
  RATE_LIMIT_SUBJECT: '100000000 per minute',
  RATE_LIMIT_FLOOD: '100000000 per minute',
  APPVERIFY_RATE_LIMIT: '1000000 per second',
  // Every per-route and per-recipient limit the verification scenario would otherwise run into.
  SMS_CHECK_RATE_LIMIT: '1000000 per second',
  SMS_RECIPIENT_HOURLY_LIMIT: '10000',
  SMS_RESEND_COOLDOWN: '0',
  // The sustained run calls /v1/me with one token for BENCH_SUSTAIN seconds: it must outlive the run.
  JWT_EXPIRE_SECONDS: '86400',
  SMS_PROVIDER: 'webhook',
  SMS_WEBHOOK_URL: webhook.url,
  SMS_WEBHOOK_SECRET: WEBHOOK_SECRET
}
const profile = (kind: Kind): string[] => CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${join(logDir, kind)}`] : []
// The service runs with the Node options it ships with: the Dockerfile's NODE_OPTIONS (the heap limit).
// BENCH_NODE_OPTIONS replaces them, to measure what an option costs (an empty value runs none).
const dockerfileOptions = /^ENV NODE_OPTIONS="([^"]*)"/m.exec(readFileSync(new URL('../Dockerfile', import.meta.url), 'utf8'))?.[1]
const shippedOptions = (process.env.BENCH_NODE_OPTIONS ?? dockerfileOptions ?? '').split(/\s+/).filter(Boolean)
const optionsSource = process.env.BENCH_NODE_OPTIONS === undefined ? 'Dockerfile' : 'BENCH_NODE_OPTIONS'
const service = await startChild('service', serviceEnv, logFd, [...shippedOptions, ...profile('service')])
const baseline = await startChild('baseline', { ...process.env, NODE_ENV: 'production' }, 'ignore', profile('baseline'))
// The stock target writes its access lines to a file of its own, as the service does.
const stockLogFile = join(logDir, 'stock.log')
const stockLogFd = openSync(stockLogFile, 'a')
const stock = await startChild('stock', { ...process.env, NODE_ENV: 'production' }, stockLogFd, profile('stock'))
const targets = { service: { ...service.target, apiKey: API_KEY }, baseline: baseline.target, stock: stock.target }

const cpu = cpus()[0]?.model ?? 'unknown CPU'
process.stdout.write(`tokenmint benchmark: ${availableParallelism()} CPUs (${cpu}), Node ${process.version}, ` +
  `${CONNECTIONS} connections, best of ${ROUNDS} rounds of ${DURATION} s per route and target after ${WARMUP} s warm-up, ` +
  `pool-based routes ${POOL} requests; service LOG_LEVEL=${LOG_LEVEL} to ${logFile}, Node options ${shippedOptions.join(' ') || 'none'} (${optionsSource})\n\n`)

const rows: Row[] = []
for (const scenario of scenarios.filter((s) => s.name.includes(ROUTES))) {
  const row: Row = { name: scenario.name }
  try {
    for (const kind of KINDS) {
      const target = targets[kind]
      await load(target, await scenario.prepare(target, Math.max(1, Math.round(POOL / 4))), WARMUP)
    }
    for (let round = 0; round < ROUNDS; round++) {
      for (const kind of KINDS) {
        const target = targets[kind]
        const measured = await load(target, await scenario.prepare(target, POOL), DURATION)
        const best = row[kind]
        if (best === undefined || rps(measured) > rps(best)) row[kind] = { ...measured, cpuPerRequest: Math.min(measured.cpuPerRequest, best?.cpuPerRequest ?? Infinity) }
        else best.cpuPerRequest = Math.min(best.cpuPerRequest, measured.cpuPerRequest)
      }
    }
  } catch (error) {
    if (!(error instanceof Unavailable)) throw error
    delete row.service
    delete row.baseline
    delete row.stock
    row.note = error.message
  }
  rows.push(row)
  process.stderr.write(`  measured ${scenario.name}\n`)
}

/**
 * What went wrong in a run, by status code and error kind (autocannon counts a timeout among its
 * errors too): " (502 × 3, timeouts × 1)", or nothing.
 */
function failures (result: Result): string {
  const byStatus = Object.entries(result.statusCodeStats ?? {})
    .filter(([status]) => !status.startsWith('2'))
    .map(([status, { count }]) => `${status} × ${count}`)
  if (result.errors > result.timeouts) byStatus.push(`connection errors × ${result.errors - result.timeouts}`)
  if (result.timeouts > 0) byStatus.push(`timeouts × ${result.timeouts}`)
  return byStatus.length === 0 ? '' : ` (${byStatus.join(', ')})`
}

/**
 * Sustained mixed load on the service alone (device tokens, bearer calls, App Verify tokens and new
 * verifications: everything that adds records to the store), its memory sampled every 5 s. Growth
 * is the end against the sample a third of the way in, once caches and pools have filled.
 */
async function sustained (target: Target, seconds: number): Promise<string> {
  const { token } = await call(target, 'POST', '/gen-jwt', { instance_id: INSTANCE_ID })
  let n = 0
  const samples: Array<{ at: number, mem: NodeJS.MemoryUsage }> = []
  const started = performance.now()
  const sampler = setInterval(() => { target.memory().then((mem) => samples.push({ at: (performance.now() - started) / 1000, mem }), () => {}) }, 5000)
  const json = { 'x-api-key': target.apiKey, 'content-type': 'application/json' }
  const result = await autocannon({
    url: target.base,
    connections: CONNECTIONS,
    duration: seconds,
    requests: [
      { method: 'POST', path: '/gen-jwt', headers: json, setupRequest: (request: RawRequest) => ({ ...request, body: JSON.stringify({ instance_id: `device-${n++}` }) }) },
      { method: 'GET', path: '/v1/me', headers: { authorization: `Bearer ${String(token)}`, 'x-instance-id': INSTANCE_ID } },
      { method: 'GET', path: '/v1/token/%2B15555550100', headers: { 'x-api-key': target.apiKey } },
      { method: 'POST', path: '/v1/verifications', headers: json, setupRequest: (request: RawRequest) => ({ ...request, body: JSON.stringify({ auth_id: `sustain-${n++}`, recipient: `+1555555${String(n % 10_000).padStart(4, '0')}` }) }) }
    ]
  })
  clearInterval(sampler)
  samples.push({ at: seconds, mem: await target.memory() })
  const mib = (bytes: number): string => `${(bytes / 2 ** 20).toFixed(0)} MiB`
  const third = samples.find((sample) => sample.at >= seconds / 3) ?? samples[0]
  const last = samples.at(-1)
  if (third === undefined || last === undefined) return 'Sustained run: no memory samples.'
  const peak = Math.max(...samples.map((sample) => sample.mem.rss))
  return `Sustained run: ${seconds} s of mixed load (gen-jwt with a new device each time, /v1/me, App Verify, new verifications), ` +
    `${Math.round(result.requests.total / seconds)} req/s, ${result.non2xx + result.errors} non-2xx/errors${failures(result)}. ` +
    `Service RSS ${mib(third.mem.rss)} at ${Math.round(third.at)} s, ${mib(last.mem.rss)} at the end (peak ${mib(peak)}); ` +
    `at the end: V8 heap ${mib(last.mem.heapTotal)} (used ${mib(last.mem.heapUsed)}), external ${mib(last.mem.external)} ` +
    `(array buffers ${mib(last.mem.arrayBuffers)}), the rest (code, stacks, native allocations) ${mib(last.mem.rss - last.mem.heapTotal - last.mem.external)}; ` +
    `RSS growth over the last two thirds: ${mib(last.mem.rss - third.mem.rss)}.`
}

const sustainedReport = SUSTAIN > 0 ? await sustained(targets.service, SUSTAIN) : undefined

for (const { child } of [service, baseline, stock]) {
  const exited = new Promise((resolve) => child.once('exit', resolve))
  child.disconnect()
  await exited
}
webhook.close()
closeSync(logFd)
closeSync(stockLogFd)

process.stdout.write(`${table(rows)}\n\nreq/s ratio = service req/s / baseline req/s (best round each); CPU ratio = baseline ` +
  'CPU time per request / service CPU time per request (least of the rounds), the throughput share to expect with a core each. ' +
  `The service wrote ${(statSync(logFile).size / 1e6).toFixed(1)} MB of logs.\n\n` +
  'The minimal routes with the stock parts every service route needs (Fastify\'s logger with one access line per request to a file, ' +
  'a request id header, @fastify/rate-limit per caller, the API-key check, schemas, a prom-client histogram):\n\n' +
  `${stockTable(rows)}\n\nThe stock target wrote ${(statSync(stockLogFile).size / 1e6).toFixed(1)} MB of logs.\n`)
process.stdout.write(`${metricsCost(rows)}\n${floodGuardCost()}\n`)
if (sustainedReport !== undefined) process.stdout.write(`${sustainedReport}\n`)
if (CPU_PROF) {
  process.stdout.write(`CPU profiles: ${logDir}/{service,baseline,stock}/*.cpuprofile; where each server's busy CPU went:\n`)
  for (const kind of KINDS) {
    const dir = join(logDir, kind)
    for (const file of readdirSync(dir).filter((name) => name.endsWith('.cpuprofile'))) process.stdout.write(`${kind}: ${profileReport(join(dir, file))}\n`)
  }
} else {
  rmSync(logDir, { recursive: true, force: true })
}
