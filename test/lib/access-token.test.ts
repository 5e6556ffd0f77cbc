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

test('memoizedHeaderDefect never remembers a token over the length limit: the memo stays bounded by size x 4096', async (t) => {
  const verdicts = new Map<string, string | undefined>()
  const check = memoizedHeaderDefect(2048, verdicts)
  const answers = new Set<string | undefined>()
  for (let i = 0; i < 3000; i++) answers.add(check(`${segment({ alg: 'HS256', n: i })}.${'A'.repeat(16 * 1024)}.c2ln`))
  t.same([...answers], ['The token is longer than 4096 characters.'])
  t.equal(verdicts.size, 0, 'no over-long token is cached')
  for (let i = 0; i < 3000; i++) check(token({ alg: 'HS256', kid: `k${i}` }))
  t.equal(verdicts.size, 2048)
  const held = [...verdicts.keys()].reduce((sum, key) => sum + key.length, 0)
  t.ok(held <= 2048 * 4096, `the memo holds ${held} characters`)
})
