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

test('slowloris: a client that never finishes its headers is cut off by the headers timeout', async (t) => {
  const target = await hostileTarget(t)
  const { port } = target.app.server.address() as { port: number }
  const { answer, seconds } = await trickle(port, 'GET /health/live HTTP/1.1\r\nHost: x\r\nX-Slow: ')
  t.ok(seconds < 20, `the connection was closed after ${seconds.toFixed(1)} s (headers timeout 10 s)`)
  t.match(answer, /^HTTP\/1\.1 408/, 'answered 408')
  t.match(answer, /application\/problem\+json/)
})

test('a body that never arrives is cut off by the request timeout', async (t) => {
  const target = await hostileTarget(t)
  const { port } = target.app.server.address() as { port: number }
  const { answer, seconds } = await trickle(port, 'POST /gen-jwt HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{')
  t.ok(seconds < 25, `the connection was closed after ${seconds.toFixed(1)} s (request timeout 15 s)`)
  t.notMatch(answer, /^HTTP\/1\.1 [25]/, 'no success and no 5xx')
  t.equal(target.writes(), 0, 'nothing stored')
})
