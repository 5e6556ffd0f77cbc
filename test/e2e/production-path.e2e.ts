import { spawn, spawnSync } from 'node:child_process'
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { test } from 'tap'
import { startStandin } from '../mongo-standin.js'

// docs/operations.md "Production install", run as written: a copy of the repository's files, npm ci,
// build, prune the dev dependencies, then npm start in production mode against a MongoDB (the
// wire-level stand-in, as no MongoDB server exists on these machines).
const root = fileURLToPath(new URL('../..', import.meta.url))
const API_KEY = 'production-path-api-key-0123456789'
const METRICS_TOKEN = 'production-path-metrics-token-0123456789'

function run (cwd: string, command: string, args: string[]): string {
  const result = spawnSync(command, args, { cwd, encoding: 'utf8', env: { ...process.env, NODE_ENV: '' } })
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')} failed (${String(result.status)}):\n${result.stdout}\n${result.stderr}`)
  return result.stdout
}

async function freePort (): Promise<number> {
  return await new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number }
      server.close(() => { resolve(port) })
    })
  })
}

test('production install: build, prune dev dependencies, npm start without compiling, ready against MongoDB', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'tokenmint-production-'))
  t.teardown(() => { rmSync(dir, { recursive: true, force: true }) })
  // What a clone holds: the tracked files.
  for (const file of run(root, 'git', ['ls-files', '-z']).split('\0').filter((f) => f !== '' && existsSync(join(root, f)))) {
    mkdirSync(dirname(join(dir, file)), { recursive: true })
    copyFileSync(join(root, file), join(dir, file))
  }
  run(dir, 'npm', ['ci', '--no-audit', '--no-fund'])
  run(dir, 'npm', ['run', 'build'])
  run(dir, 'npm', ['prune', '--omit=dev', '--no-audit', '--no-fund'])
  t.notOk(existsSync(join(dir, 'node_modules/typescript')), 'TypeScript is gone')
  t.notOk(existsSync(join(dir, 'node_modules/tap')), 'and so are the test tools')

  const standin = await startStandin()
  t.teardown(() => standin.stop())
  const port = await freePort()
  const env = {
    ...process.env,
    NODE_ENV: 'production',
    HOST: '127.0.0.1',
    PORT: String(port),
    LOG_LEVEL: 'info',
    MONGODB_URL: standin.url,
    API_KEYS: API_KEY,
    JWT_SECRET: Buffer.alloc(32, 7).toString('base64'),
    OTP_PEPPER: 'production-path-pepper-0123456789abcdef',
    APPVERIFY_API_KEY: Buffer.alloc(32, 9).toString('base64'),
    APPVERIFY_CUSTOMER_ID: 'PRODUCTION-PATH',
    SMS_PROVIDER: 'webhook',
    SMS_WEBHOOK_URL: 'https://sms.example.invalid/hook',
    SMS_WEBHOOK_SECRET: 'production-path-webhook-secret-0123456789',
    METRICS_TOKEN
  }
  const server = spawn('npm', ['start'], { cwd: dir, env, detached: true })
  let output = ''
  server.stdout.on('data', (chunk: Buffer) => { output += chunk.toString() })
  server.stderr.on('data', (chunk: Buffer) => { output += chunk.toString() })
  const exited = new Promise<void>((resolve) => { server.on('close', () => { resolve() }) })
  t.teardown(() => { try { process.kill(-(server.pid ?? 0), 'SIGKILL') } catch {} })

  const base = `http://127.0.0.1:${port}`
  let ready: Response | undefined
  for (let i = 0; i < 100 && ready?.status !== 200; i++) {
    await new Promise((resolve) => setTimeout(resolve, 300))
    ready = await fetch(`${base}/health/ready`).catch(() => undefined)
  }
  t.equal(ready?.status, 200, `/health/ready answers 200 (output: ${output.slice(0, 500)})`)
  t.match(await ready?.json(), { status: 'ok', store: 'mongodb' })
  t.notMatch(output, /building|rebuilding/, 'npm start ran the build, it did not compile')
  const minted = await fetch(`${base}/gen-jwt`, { method: 'POST', headers: { 'x-api-key': API_KEY, 'content-type': 'application/json' }, body: '{}' })
  t.equal(minted.status, 200, 'a token is minted and recorded in MongoDB')
  t.equal((await fetch(`${base}/metrics`)).status, 401, 'metrics want their token')
  t.equal((await fetch(`${base}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } })).status, 200)
  // The whole process group, as a container runtime or systemd does: npm ends by the signal, the server by closing.
  process.kill(-(server.pid ?? 0), 'SIGTERM')
  const started = Date.now()
  await exited
  t.ok(Date.now() - started < 11_000, 'SIGTERM ends it within the grace period')
  t.match(output, /"msg":"closing: finishing in-flight requests"/, 'the server closed gracefully')
  t.notMatch(output, /"level":50|"level":60|\n\s+at /, 'no error line and no stack trace')

  rmSync(join(dir, 'dist'), { recursive: true })
  const missing = spawnSync('npm', ['start'], { cwd: dir, env, encoding: 'utf8' })
  t.not(missing.status, 0, 'without dist/ and without TypeScript, npm start stops')
  t.match(missing.stderr, /dist\/server\.js is missing[\s\S]*npm ci && npm run build && npm prune --omit=dev && npm start/, 'and says how to build')
})
