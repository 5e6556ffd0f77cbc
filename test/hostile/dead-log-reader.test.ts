import t, { test } from 'tap'
import type { Test } from 'tap'
import { spawnServer } from '../process.js'

// A log shipper that stalls (its pipe fills) or dies (EPIPE): requests go on being answered and
// SIGTERM still ends the server within its 10 s grace period.

type Server = ReturnType<typeof spawnServer>

// The two cases use separate server processes and mostly wait: run them side by side.
t.jobs = 2

async function listening (t: Test, server: Server): Promise<string> {
  t.teardown(() => { if (server.exitCode === null && server.signalCode === null) server.kill('SIGKILL') })
  let output = ''
  return await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => { reject(new Error(`server did not start: ${output}`)) }, 30_000)
    server.stdout.on('data', function onData (chunk: Buffer) {
      output += chunk.toString()
      const port = /Server listening at http:\/\/127\.0\.0\.1:(\d+)/.exec(output)?.[1]
      if (port !== undefined) {
        clearTimeout(timer)
        server.stdout.off('data', onData)
        resolve(`http://127.0.0.1:${port}`)
      }
    })
  })
}

/** Sends up to `count` requests one after another; returns how many were answered before the first that was not (2 s each). */
async function answeredOf (base: string, count: number): Promise<number> {
  for (let i = 0; i < count; i++) {
    const ok = await fetch(`${base}/health/live`, { signal: AbortSignal.timeout(2_000) }).then((r) => r.ok, () => false)
    if (!ok) return i
  }
  return count
}

async function exitAfterSigterm (server: Server): Promise<{ code: number | null | 'still running', ms: number }> {
  const exited = new Promise<number | null>((resolve) => { server.on('exit', (code) => { resolve(code) }) })
  const started = Date.now()
  server.kill('SIGTERM')
  const code = await Promise.race([exited, new Promise<'still running'>((resolve) => setTimeout(() => { resolve('still running') }, 13_000))])
  return { code, ms: Date.now() - started }
}

test('a stalled log reader (its pipe full) blocks neither requests nor shutdown', async (t) => {
  const server = spawnServer({ LOG_LEVEL: 'info' })
  const base = await listening(t, server)
  // Nobody reads the server's output any more: the 64 KiB pipe fills within a few hundred log lines.
  server.stdout.pause()
  server.stderr.pause()
  const answered = await answeredOf(base, 1500)
  t.equal(answered, 1500, 'all 1,500 requests answered (about 250 KiB of access log that nobody read)')
  const { code, ms } = await exitAfterSigterm(server)
  t.equal(code, 0, `exited cleanly ${ms} ms after SIGTERM`)
  t.ok(ms < 11_000, 'within the grace period')
})

test('a log reader that has gone (EPIPE) blocks neither requests nor shutdown', async (t) => {
  const server = spawnServer({ LOG_LEVEL: 'info' })
  const base = await listening(t, server)
  server.stdout.destroy()
  server.stderr.destroy()
  t.equal(await answeredOf(base, 300), 300, 'requests are answered while every log write fails')
  const { code, ms } = await exitAfterSigterm(server)
  t.not(code, 'still running', `ended ${ms} ms after SIGTERM`)
  t.ok(ms < 11_000, 'within the grace period')
})
