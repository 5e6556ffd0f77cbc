import { test } from 'tap'
import { spawn } from 'node:child_process'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

const serverPath = fileURLToPath(new URL('../server.ts', import.meta.url))
const tsxLoader = fileURLToPath(new URL('../node_modules/tsx/dist/loader.mjs', import.meta.url))

interface Running {
  port: number
  output: () => string
  exited: Promise<number | null>
  kill: (signal: NodeJS.Signals) => void
}

/** Starts server.ts as `npm start` would (in a scratch directory), resolving once it listens. */
async function startServer (env: Record<string, string>, ready = /Store: /): Promise<Running> {
  const cwd = mkdtempSync(join(tmpdir(), 'tokenmint-server-'))
  const child = spawn(process.execPath, ['--import', tsxLoader, serverPath], {
    cwd,
    env: { PATH: process.env.PATH ?? '', PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  let output = ''
  child.stdout.on('data', (chunk) => { output += String(chunk) })
  child.stderr.on('data', (chunk) => { output += String(chunk) })
  const exited = new Promise<number | null>((resolve) => { child.on('exit', (code) => { resolve(code) }) })
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => { reject(new Error(`server did not start:\n${output}`)) }, 20_000)
    const check = (): void => {
      const match = /Server listening at http:\/\/127\.0\.0\.1:(\d+)/.exec(output)
      if (match?.[1] !== undefined && ready.test(output)) {
        clearTimeout(timer)
        resolve(Number(match[1]))
      } else if (child.exitCode !== null) {
        clearTimeout(timer)
        reject(new Error(`server exited:\n${output}`))
      } else setTimeout(check, 50)
    }
    check()
  })
  return { port, output: () => output, exited, kill: (signal) => child.kill(signal) }
}

test('npm start: development defaults print the API key once, logs carry no secrets, SIGTERM closes cleanly', async (t) => {
  const server = await startServer({})
  const key = /API key:\s+(\S+)/.exec(server.output())?.[1]
  t.match(key, /^tm_dev_/, 'the generated API key is printed for Swagger UI')
  t.match(server.output(), /Swagger UI:\s+http:\/\/127\.0\.0\.1:\d+\/docs/)
  const base = `http://127.0.0.1:${server.port}`

  const issued = await fetch(`${base}/gen-jwt`, { method: 'POST', headers: { 'x-api-key': key ?? '', 'content-type': 'application/json' }, body: '{"instance_id":"123445"}' })
  t.equal(issued.status, 200)
  const { token } = await issued.json() as { token: string }
  const me = await fetch(`${base}/v1/me`, { headers: { authorization: `Bearer ${token}`, 'x-instance-id': '123445' } })
  t.equal(me.status, 200)
  await fetch(`${base}/v1/verifications?auth_id=a&code=987654`)
  const ready = await fetch(`${base}/health/ready`)
  t.same(await ready.json(), { status: 'ok', store: 'memory' })

  const logs = server.output().split('\n').filter((line) => line.startsWith('{')).join('\n')
  t.match(logs, /"reqId"/, 'requests are logged with ids')
  t.notMatch(logs, key ?? 'never', 'the API key is not logged')
  t.notMatch(logs, token, 'the token is not logged')
  t.notMatch(logs, '987654', 'query strings (codes) are not logged')

  server.kill('SIGTERM')
  t.equal(await server.exited, 0, 'exits 0 after SIGTERM')
  t.match(server.output(), /closing: finishing in-flight requests/)
})

test('production refuses to start on insecure defaults and says what is missing', async (t) => {
  const cwd = mkdtempSync(join(tmpdir(), 'tokenmint-server-'))
  const child = spawn(process.execPath, ['--import', tsxLoader, serverPath], { cwd, env: { PATH: process.env.PATH ?? '', NODE_ENV: 'production' } })
  let output = ''
  child.stderr.on('data', (chunk) => { output += String(chunk) })
  const code = await new Promise<number | null>((resolve) => { child.on('exit', resolve) })
  t.equal(code, 1)
  t.match(output, /refuses to start/)
  t.match(output, /API_KEYS[\s\S]*MONGODB_URL[\s\S]*OTP_PEPPER/)
})
