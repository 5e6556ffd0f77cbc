import { Writable } from 'node:stream'
import Fastify from 'fastify'
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { test } from 'tap'
import type { Test } from 'tap'
import app from '../app.js'
import { AccessLog, serverOptions } from '../server-options.js'
import { API_KEY, testConfig } from './helper.js'

/** Builds the app exactly like build(), with the production logger writing into an array. */
async function appWithLogs (t: Pick<Test, 'teardown'>): Promise<{ fastify: FastifyInstance, lines: Array<Record<string, unknown>> }> {
  const lines: Array<Record<string, unknown>> = []
  const config = testConfig({ LOG_LEVEL: 'info' })
  const options = serverOptions(config)
  const stream = new Writable({
    write (chunk: Buffer, _encoding, done) {
      lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>)
      done()
    }
  })
  const fastify = Fastify({ ...options, logger: { ...(options.logger as object), stream } })
  await fastify.register(fp(app, { name: 'tokenmint' }), { config })
  t.teardown(() => fastify.close())
  return { fastify, lines }
}

test('access log: one flat line per request, path only, no credentials', async (t) => {
  const { fastify, lines } = await appWithLogs(t)
  const response = await fastify.inject({ method: 'POST', url: '/gen-jwt?code=123456', headers: { 'x-api-key': API_KEY }, payload: {} })
  t.equal(response.statusCode, 200)
  const access = lines.filter((line) => line.reqId === response.headers['x-request-id'])
  t.equal(access.length, 1, 'exactly one line for the request')
  t.match(access[0], { msg: 'request completed', method: 'POST', url: '/gen-jwt?[query]', statusCode: 200, responseTime: Number })
  t.notOk('req' in (access[0] ?? {}) || 'res' in (access[0] ?? {}), 'flat fields, no nested req/res')
  t.notMatch(JSON.stringify(lines), /123456|test-api-key|eyJ/, 'no code, key or token in the log')
  t.notOk(lines.some((line) => line.msg === 'incoming request'), 'no incoming-request line')
})

test('access log: a failed response still logs at error level with the error', async (t) => {
  const logged: Array<{ level: string, object: Record<string, unknown>, msg: string }> = []
  const log = {
    info: (object: Record<string, unknown>, msg: string) => logged.push({ level: 'info', object, msg }),
    error: (object: Record<string, unknown>, msg: string) => logged.push({ level: 'error', object, msg })
  }
  const request = { method: 'GET', url: '/v1/me', log }
  const reply = { statusCode: 500, elapsedTime: 1.5, log }
  new AccessLog().requestCompleted(new Error('socket hang up'), request as never, reply as never)
  t.equal(logged.length, 1)
  t.match(logged[0], { level: 'error', msg: 'request errored', object: { responseTime: 1.5 } })
  t.equal((logged[0]?.object.err as Error).message, 'socket hang up')
})
