import { test } from 'tap'
import { headerDefect, memoizedHeaderDefect } from '../../lib/access-token.js'

const segment = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url')
const token = (header: unknown, payload: unknown = { sub: 'x', iat: 1, exp: 2 }): string => `${segment(header)}.${segment(payload)}.c2ln`

test('memoizedHeaderDefect gives headerDefect\'s verdict, first time and again, beyond its size', async (t) => {
  const check = memoizedHeaderDefect(2)
  const good = token({ alg: 'HS256', typ: 'at+jwt', kid: 'k1' })
  const cases = [
    good,
    token({ alg: 'HS256', kid: 'k1', jku: 'https://evil.example' }),
    token({ alg: 'HS256' }),
    token({ alg: 'HS256', kid: 'k1' }, { iat: -1 }),
    'not.a.jwt!',
    `${segment({ alg: 'HS256', kid: 'k1' })}.${Buffer.from('{"sub":"a","sub":"b"}').toString('base64url')}.c2ln`
  ]
  t.equal(headerDefect(good), undefined)
  for (let round = 0; round < 3; round++) {
    for (const value of cases) t.equal(check(value), headerDefect(value), `round ${round}: ${value.slice(0, 24)}`)
  }
  t.match(check(cases[1] ?? ''), /"jku" is not accepted/)
  t.match(check(cases[5] ?? ''), /repeats a member/)
})
