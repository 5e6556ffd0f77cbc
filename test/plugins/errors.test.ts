import { test } from 'tap'
import { assertProblem, buildTestApp } from '../helper.js'
import { toProblem } from '../../plugins/errors.js'
import { DuplicateKeyError } from '../../lib/store.js'

test('unknown routes are 404 problems that do not echo the query', async (t) => {
  const app = await buildTestApp(t)
  const response = await app.inject({ url: '/nowhere?code=123456&token=secret' })
  const body = assertProblem(t, response, 404, 'not_found')
  t.notMatch(String(body.detail), /123456|secret/)
})

test('unexpected errors are a generic 500 without internals', async (t) => {
  const problem = toProblem(new Error('connect ECONNREFUSED mongodb://admin:hunter2@db.internal:27017'))
  t.equal(problem.statusCode, 500)
  t.equal(problem.code, 'internal_error')
  t.notMatch(JSON.stringify(problem.toJSON()), /hunter2|db\.internal|ECONNREFUSED|stack/)
})

test('duplicate keys that reach the handler are 409, other client errors keep their status', async (t) => {
  t.equal(toProblem(new DuplicateKeyError()).statusCode, 409)
  const teapot = Object.assign(new Error('FST_SOMETHING internal words'), { statusCode: 418 })
  const problem = toProblem(teapot)
  t.equal(problem.statusCode, 418)
  t.equal(problem.code, 'i_m_a_teapot')
  t.notMatch(problem.message, /FST_|internal words/)
  t.equal(toProblem(Object.assign(new Error('x'), { statusCode: 400 })).code, 'invalid_request')
})

test('malformed HTTP gets a problem+json 400 from the socket handler', async (t) => {
  const app = await buildTestApp(t)
  await app.listen({ port: 0, host: '127.0.0.1' })
  const { port } = app.server.address() as { port: number }
  const { createConnection } = await import('node:net')
  const answer = await new Promise<string>((resolve, reject) => {
    const socket = createConnection({ port, host: '127.0.0.1' }, () => { socket.write('GARBAGE / HTTP/1.1\r\nHost: x\r\n\r\n') })
    let data = ''
    socket.on('data', (chunk) => { data += String(chunk) })
    socket.on('end', () => { resolve(data) })
    socket.on('error', reject)
  })
  t.match(answer, /^HTTP\/1\.1 400/)
  t.match(answer, /application\/problem\+json/)
  t.match(answer, /"code":"invalid_request"/)
})

test('router errors (bad percent-encoding, over-long parameters) are problem+json too', async (t) => {
  const app = await buildTestApp(t)
  assertProblem(t, await app.inject({ url: '/v1/%E0%A4%A' }), 400, 'invalid_request')
  const long = await app.inject({ url: `/docs/static/${'a'.repeat(300)}` })
  t.ok(long.statusCode >= 400 && long.statusCode < 500, `over-long path answered ${long.statusCode}`)
  t.match(String(long.headers['content-type']), /problem\+json/)
})
