import { test } from 'tap'
import { createServer } from 'node:net'
import { once } from 'node:events'
import { VERSION } from '../lib/version.js'
import { apiKeyId } from '../lib/api-keys.js'
import { spawnServer, startServer } from './process.js'

test('npm start: development defaults print the API key once, logs carry no secrets, SIGTERM closes cleanly', async (t) => {
  const server = await startServer({}, /Store: /)
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
  t.same(await ready.json(), { status: 'ok', version: VERSION, store: 'memory' })

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
  const child = spawnServer({ NODE_ENV: 'production' })
  let output = ''
  child.stderr.on('data', (chunk) => { output += String(chunk) })
  const code = await new Promise<number | null>((resolve) => { child.on('exit', resolve) })
  t.equal(code, 1)
  t.match(output, /refuses to start/)
  for (const name of ['API_KEYS', 'MONGODB_URL', 'OTP_PEPPER', 'APPVERIFY_API_KEY', 'APPVERIFY_CUSTOMER_ID', 'JWT_SECRET']) t.match(output, `${name} is required in production`)
  t.match(output, 'SMS_PROVIDER=console prints codes and is refused in production')
})

test('a configured API key is never printed: the banner shows its key id when other secrets are generated', async (t) => {
  const configured = 'operator-chosen-key-0123456789'
  const server = await startServer({ API_KEYS: configured }, /Store: /)
  t.notMatch(server.output(), configured, 'the configured key is not on stdout')
  t.match(server.output(), `key ids ${apiKeyId(configured)}`)
  t.match(server.output(), /set JWT_SECRET/, 'the banner still shows for the generated secrets')
  server.kill('SIGTERM')
  t.equal(await server.exited, 0)
})

test('a port already in use: one line naming the setting to change, exit 1, no stack', async (t) => {
  const blocker = createServer().listen(0, '127.0.0.1')
  await once(blocker, 'listening')
  t.teardown(() => blocker.close())
  const { port } = blocker.address() as { port: number }
  const child = spawnServer({ PORT: String(port) })
  let output = ''
  child.stderr.on('data', (chunk) => { output += String(chunk) })
  const code = await new Promise<number | null>((resolve) => { child.on('exit', resolve) })
  t.equal(code, 1)
  t.match(output, `127.0.0.1:${port} is already in use`)
  t.match(output, /set PORT to a free port/)
  t.notMatch(output, /\n\s+at |EADDRINUSE/, 'no stack trace or error code')
})
