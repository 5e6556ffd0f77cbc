import { test } from 'tap'
import { censorNested, pathOnly, scrub } from '../../lib/redact.js'

test('scrub removes URLs, addresses and host:port pairs and bounds the text', async (t) => {
  t.equal(scrub('connect to mongodb://user:pw@db.internal:27017/jwt_db failed'), 'connect to [url] failed')
  t.equal(scrub('ECONNREFUSED 10.0.0.12:6379'), 'ECONNREFUSED [address]')
  t.equal(scrub('timeout talking to redis.internal:6379 now'), 'timeout talking to [address] now')
  t.equal(scrub('plain message'), 'plain message')
  t.equal(scrub('x'.repeat(400)).length, 300)
})

test('pathOnly drops the query string and bounds the path', async (t) => {
  t.equal(pathOnly('/v1/verifications?auth_id=a&code=123456'), '/v1/verifications?[query]')
  t.equal(pathOnly('/v1/token/15551234567'), '/v1/token/15551234567')
  t.equal(pathOnly(`/${'a'.repeat(300)}`).length, 200)
})

test('censorNested censors the named fields one level down and passes a flat object through as it is', async (t) => {
  const names = ['token', 'password']
  const flat = { method: 'GET', url: '/v1/me', statusCode: 200, token: 'top-level is the redact paths\' job' }
  t.equal(censorNested(flat, names, '[X]'), flat, 'nothing nested: the same object, not a copy')

  const inner = { token: 'eyJ.secret', keep: 1 }
  const object = { a: inner, b: { password: 'hunter2', token: 't', other: 'x' }, c: { fine: true }, list: [{ token: 'in an array' }], nil: null }
  const censored = censorNested(object, names, '[X]')
  t.same(censored, { a: { token: '[X]', keep: 1 }, b: { password: '[X]', token: '[X]', other: 'x' }, c: { fine: true }, list: [{ token: 'in an array' }], nil: null },
    'what pino\'s *.token and *.password paths censor: members of top-level objects (not array elements, as with pino)')
  t.equal(inner.token, 'eyJ.secret', 'the logged object itself is not changed')
  t.equal(object.a, inner)
  t.equal(censored.c, object.c, 'members with nothing to censor are not copied')

  const error = Object.assign(new Error('upstream said no'), { secret: 'shh', code: 'E_UP' })
  const { err } = censorNested({ err: error }, ['secret'], '[X]') as { err: Error & { secret: string, code: string } }
  t.ok(err instanceof Error, 'an Error stays an Error')
  t.equal(err.message, 'upstream said no')
  t.equal(err.stack, error.stack)
  t.equal(err.code, 'E_UP')
  t.equal(err.secret, '[X]')
  t.equal(error.secret, 'shh')

  const awkward = Object.defineProperty({ token: 't' }, 'broken', { get () { throw new Error('no') }, enumerable: true })
  const { o } = censorNested({ o: awkward }, ['token'], '[X]') as { o: { token: string, broken: unknown } }
  t.equal(o.token, '[X]', 'an own getter that throws does not stop the censoring')
  t.throws(() => o.broken, /no/, 'and is carried over as it was')
})
