import Fastify from 'fastify'
import { test } from 'tap'
import { checkEveryResponse, openApiViolation } from './helper.js'

// The suite-wide check (every response of every test app against openapi.yaml) is a check that can fail.

test('a response outside the document is reported; a documented one is not', async (t) => {
  const app = Fastify()
  app.get('/v1/me', async (request, reply) => request.headers['x-case'] === 'bad' ? { bogus: true } : reply.code(418).send('no'))
  app.get('/health/live', async () => ({ status: 'ok', version: '0.2.0' }))
  app.get('/not-in-the-document', async () => ({ anything: 1 }))
  const responses = checkEveryResponse(app)
  await app.ready()
  await app.inject({ url: '/health/live' })
  await app.inject({ url: '/not-in-the-document' })
  t.doesNotThrow(() => { responses.report() }, 'documented and valid, or not documented at all: nothing to report')
  t.equal(responses.checked, 1)
  await app.inject({ url: '/v1/me', headers: { 'x-case': 'bad' } })
  await app.inject({ url: '/v1/me' })
  t.throws(() => { responses.report() }, /GET \/v1\/me 200 body does not match openapi\.yaml[\s\S]*GET \/v1\/me does not document status 418/)
  await app.close()
})

test('openApiViolation names what is wrong', async (t) => {
  t.equal(openApiViolation('GET', '/health/live', 200, 'application/json; charset=utf-8', '{"status":"ok","version":"1"}'), undefined)
  t.match(openApiViolation('GET', '/health/live', 200, 'text/html', '<p>'), /does not document content type text\/html/)
  t.match(openApiViolation('GET', '/health/live', 200, 'application/json', '{'), /is not JSON/)
  t.match(openApiViolation('GET', '/health/live', 200, 'application/json', '{"status":"down"}'), /does not match/)
})
