import { test } from 'tap'
import { connect } from 'node:net'
import { API_KEY } from '../helper.js'
import { hostileTarget } from './harness.js'

/** Writes raw bytes on a fresh connection and returns everything the server sends before closing (5 s at most). */
async function exchange (port: number, text: string): Promise<string> {
  return await new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1')
    let answer = ''
    const timer = setTimeout(() => { socket.destroy(new Error('no answer within 5 s')) }, 5_000)
    socket.on('data', (chunk) => { answer += String(chunk) })
    socket.on('close', () => { clearTimeout(timer); resolve(answer) })
    socket.on('error', (error) => { clearTimeout(timer); if (answer === '') reject(error); else resolve(answer) })
    socket.end(text)
  })
}

const body = '{"instance_id":"proto-1"}'
const post = (headers: string, payload = body): string =>
  `POST /gen-jwt HTTP/1.1\r\nHost: x\r\nX-API-Key: ${API_KEY}\r\nConnection: close\r\n${headers}\r\n${payload}`

test('HTTP-level tricks: the contract status as problem+json, never a 5xx, nothing stored', async (t) => {
  const target = await hostileTarget(t)
  const { port } = target.app.server.address() as { port: number }
  const cases: Array<[string, string, number, string]> = [
    ['gzip content coding the service does not decode', post(`Content-Type: application/json\r\nContent-Encoding: gzip\r\nContent-Length: ${body.length}\r\n`), 415, 'unsupported_media_type'],
    ['deflate content coding', post(`Content-Type: application/json\r\nContent-Encoding: deflate\r\nContent-Length: ${body.length}\r\n`), 415, 'unsupported_media_type'],
    ['UTF-16 charset on a UTF-8 body', post(`Content-Type: application/json; charset=utf-16\r\nContent-Length: ${body.length}\r\n`), 415, 'unsupported_media_type'],
    ['Latin-1 charset', post(`Content-Type: application/json; charset="iso-8859-1"\r\nContent-Length: ${body.length}\r\n`), 415, 'unsupported_media_type'],
    ['no content type', post(`Content-Length: ${body.length}\r\n`), 415, 'unsupported_media_type'],
    ['Content-Length and Transfer-Encoding together (smuggling)', post(`Content-Type: application/json\r\nContent-Length: ${body.length}\r\nTransfer-Encoding: chunked\r\n`, '0\r\n\r\n'), 400, 'invalid_request'],
    ['two Content-Length headers that differ', post(`Content-Type: application/json\r\nContent-Length: ${body.length}\r\nContent-Length: 3\r\n`), 400, 'invalid_request'],
    ['Content-Length shorter than the body', post('Content-Type: application/json\r\nContent-Length: 5\r\n'), 400, ''],
    ['chunked body with a bad chunk size', post('Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n', 'zz\r\n{}\r\n0\r\n\r\n'), 400, 'invalid_request'],
    ['chunked body over the 16 KiB limit', post('Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n', `4400\r\n${'x'.repeat(0x4400)}\r\n0\r\n\r\n`), 413, 'payload_too_large'],
    ['declared Content-Length over the limit', post(`Content-Type: application/json\r\nContent-Length: ${17 * 1024}\r\n`, 'x'.repeat(17 * 1024)), 413, 'payload_too_large'],
    ['HTTP/1.1 without Host', 'GET /health/live HTTP/1.1\r\nConnection: close\r\n\r\n', 400, 'invalid_request'],
    ['unknown Expect', post(`Content-Type: application/json\r\nExpect: 200-ok\r\nContent-Length: ${body.length}\r\n`), 417, 'expectation_failed'],
    ['unknown method', 'FOO /gen-jwt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n', 400, 'invalid_request'],
    ['HTTP/9.9', 'GET /health/live HTTP/9.9\r\nHost: x\r\nConnection: close\r\n\r\n', 400, 'invalid_request'],
    ['bare LF line endings with a body', `POST /gen-jwt HTTP/1.1\nHost: x\nContent-Length: ${body.length}\n\n${body}`, 400, 'invalid_request'],
    ['header without a colon', 'GET /health/live HTTP/1.1\r\nHost: x\r\nBroken header\r\nConnection: close\r\n\r\n', 400, 'invalid_request'],
    ['NUL in a header value', 'GET /health/live HTTP/1.1\r\nHost: x\r\nX-Test: a\u0000b\r\nConnection: close\r\n\r\n', 400, 'invalid_request'],
    ['headers over 16 KiB', `GET /health/live HTTP/1.1\r\nHost: x\r\nX-Pad: ${'a'.repeat(17 * 1024)}\r\nConnection: close\r\n\r\n`, 431, 'headers_too_large'],
    ['a thousand small headers', `GET /health/live HTTP/1.1\r\nHost: x\r\n${Array.from({ length: 1000 }, (_, i) => `X-H${i}: ${'v'.repeat(20)}\r\n`).join('')}Connection: close\r\n\r\n`, 431, 'headers_too_large'],
    ['OPTIONS on a route', 'OPTIONS /gen-jwt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n', 404, 'not_found'],
    ['TRACE', 'TRACE /gen-jwt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n', 404, 'not_found'],
    ['a path that is not absolute', 'GET health/live HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n', 400, ''],
    ['double slash', 'GET //gen-jwt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n', 404, 'not_found'],
    ['upper-case path', `POST /GEN-JWT HTTP/1.1\r\nHost: x\r\nX-API-Key: ${API_KEY}\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`, 404, 'not_found'],
    ['two API key headers', `POST /gen-jwt HTTP/1.1\r\nHost: x\r\nX-API-Key: ${API_KEY}\r\nX-API-Key: ${API_KEY}\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`, 401, 'invalid_api_key'],
    ['two Authorization headers', 'GET /v1/me HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer a.b.c\r\nAuthorization: Bearer d.e.f\r\nConnection: close\r\n\r\n', 401, 'token_invalid'],
    ['a body on a DELETE', `DELETE /v1/users/nobody HTTP/1.1\r\nHost: x\r\nX-API-Key: ${API_KEY}\r\nContent-Type: text/plain\r\nContent-Length: 3\r\nConnection: close\r\n\r\nabc`, 415, 'unsupported_media_type']
  ]
  for (const [name, request, status, code] of cases) {
    const before = target.writes()
    const answer = await exchange(port, request)
    const [head = '', payload = ''] = answer.split('\r\n\r\n')
    const received = Number(/^HTTP\/1\.[01] (\d{3})/.exec(head)?.[1] ?? 0)
    t.equal(received, status, `${name}: ${status}`)
    t.ok(received > 0 && received < 500, `${name}: an answer, no 5xx`)
    t.match(head, /content-type: application\/problem\+json/i, `${name}: problem+json`)
    if (code !== '') t.match(payload, `"code":"${code}"`, `${name}: code ${code}`)
    t.notMatch(payload, /FST_|node_modules|at \w+ \(/, `${name}: no internals`)
    t.equal(target.writes(), before, `${name}: nothing stored`)
  }
  t.ok(cases.length >= 25, `${cases.length} protocol cases`)

  const plain = await exchange(port, post(`Content-Type: application/json; charset=UTF-8\r\nContent-Encoding: identity\r\nContent-Length: ${body.length}\r\n`))
  t.match(plain, /^HTTP\/1\.1 200/, 'UTF-8 and the identity coding are accepted')
  t.match(await exchange(port, 'GET /health/live HTTP/1.0\r\n\r\n'), /^HTTP\/1\.1 200/, 'HTTP/1.0 needs no Host')
})
