import { test } from 'tap'
import { createConnection } from 'node:net'
import { hostileTarget } from './harness.js'

/** Opens a socket, sends `prefix`, then trickles a byte every second; resolves with what the server says and when. */
async function trickle (port: number, prefix: string): Promise<{ answer: string, seconds: number }> {
  const started = Date.now()
  return await new Promise((resolve, reject) => {
    const socket = createConnection({ port, host: '127.0.0.1' })
    let answer = ''
    const drip = setInterval(() => { if (socket.writable) socket.write('X') }, 1_000)
    socket.on('connect', () => { socket.write(prefix) })
    socket.on('data', (chunk) => { answer += String(chunk) })
    socket.on('close', () => {
      clearInterval(drip)
      resolve({ answer, seconds: (Date.now() - started) / 1000 })
    })
    socket.on('error', (error) => {
      clearInterval(drip)
      if ((error as { code?: string }).code === 'ECONNRESET' || (error as { code?: string }).code === 'EPIPE') resolve({ answer, seconds: (Date.now() - started) / 1000 })
      else reject(error)
    })
  })
}

// Both slow clients at once against one server: each timeout is its own, and the file waits 15 s rather than 25.
test('slow clients are cut off: unfinished headers by the headers timeout, a body that never arrives by the request timeout', async (t) => {
  const target = await hostileTarget(t)
  const { port } = target.app.server.address() as { port: number }
  const [headers, body] = await Promise.all([
    trickle(port, 'GET /health/live HTTP/1.1\r\nHost: x\r\nX-Slow: '),
    trickle(port, 'POST /gen-jwt HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{')
  ])
  t.ok(headers.seconds < 20, `slowloris: the connection was closed after ${headers.seconds.toFixed(1)} s (headers timeout 10 s)`)
  t.match(headers.answer, /^HTTP\/1\.1 408/, 'answered 408')
  t.match(headers.answer, /application\/problem\+json/)
  t.ok(body.seconds < 25, `slow body: the connection was closed after ${body.seconds.toFixed(1)} s (request timeout 15 s)`)
  t.ok(body.seconds > headers.seconds, 'the body got the longer request timeout, not the headers one')
  t.notMatch(body.answer, /^HTTP\/1\.1 [25]/, 'no success and no 5xx')
  t.equal(target.writes(), 0, 'nothing stored')
})
