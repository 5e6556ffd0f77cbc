import { test } from 'tap'
import { pathOnly, scrub } from '../../lib/redact.js'

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
