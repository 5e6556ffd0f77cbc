import { test } from 'tap'
import { generateCode, hashCode, hashesMatch, isWellFormedCode, renderAuthMessage } from '../../lib/otp.js'

test('generated codes are exactly CODE_LENGTH ASCII digits, leading zeros included', async (t) => {
  for (const length of [4, 6, 10]) {
    for (let i = 0; i < 200; i++) {
      const code = generateCode(length)
      if (!new RegExp(`^[0-9]{${length}}$`).test(code)) t.fail(`bad code ${code}`)
    }
    t.pass(`200 codes of length ${length} are all digits of that length`)
  }
  let leadingZero = 0
  for (let i = 0; i < 2000; i++) if (generateCode(6).startsWith('0')) leadingZero++
  // Expected 200 of 2000; a generator that avoids 0 first (Flowroute's randint range) gives none.
  t.ok(leadingZero > 100, `leading zeros occur (${leadingZero} of 2000)`)
})

test('generated codes are uniform: chi-square per digit position over 5000 codes', async (t) => {
  const n = 5000
  const length = 6
  const counts = Array.from({ length }, () => new Array<number>(10).fill(0))
  for (let i = 0; i < n; i++) {
    const code = generateCode(length)
    for (let p = 0; p < length; p++) (counts[p] as number[])[Number(code[p])]! += 1
  }
  const expected = n / 10
  // 9 degrees of freedom: p < 0.0001 rejects above 33.72; a CSPRNG fails this about once in 10 000 runs per position.
  const critical = 33.72
  for (let p = 0; p < length; p++) {
    const chi = (counts[p] as number[]).reduce((sum, observed) => sum + (observed - expected) ** 2 / expected, 0)
    t.ok(chi < critical, `position ${p}: chi-square ${chi.toFixed(2)} < ${critical}`)
  }
  const distinct = new Set(Array.from({ length: 2000 }, () => generateCode(6)))
  t.ok(distinct.size > 1980, `2000 codes are nearly all distinct (${distinct.size})`)
})

test('hashes are HMAC-SHA256 keyed by the pepper and bound to the verification id', async (t) => {
  const hash = hashCode('pepper', 'id-1', '123456')
  t.match(hash, /^[0-9a-f]{64}$/)
  t.not(hash, '123456')
  t.equal(hashCode('pepper', 'id-1', '123456'), hash, 'deterministic')
  t.not(hashCode('other-pepper', 'id-1', '123456'), hash, 'the pepper matters')
  t.not(hashCode('pepper', 'id-2', '123456'), hash, 'the verification id matters')
  t.not(hashCode('pepper', 'id-1', '123457'), hash)
  t.ok(hashesMatch(hash, hashCode('pepper', 'id-1', '123456')))
  t.notOk(hashesMatch(hash, hashCode('pepper', 'id-1', '654321')))
  t.notOk(hashesMatch(hash, hash.slice(0, 62)), 'different lengths never match')
  t.notOk(hashesMatch('', ''), 'empty hashes never match')
})

test('well-formed codes: exactly N ASCII digits as a string, nothing else', async (t) => {
  t.ok(isWellFormedCode('012345', 6))
  t.ok(isWellFormedCode('0000', 4))
  for (const hostile of [123456, '12345', '1234567', '12345a', ' 12345', '12345\n', '１２３４５６', '١٢٣٤٥٦', ['123456'],
    { $gt: '' }, null, undefined, true, '', '12 456', '+12345', '-12345', '1e5000']) {
    t.notOk(isWellFormedCode(hostile, 6), `refuses ${JSON.stringify(hostile)}`)
  }
})

test('AUTH_MESSAGE gets the code and the organisation name', async (t) => {
  t.equal(renderAuthMessage('{code}\nWelcome to {org}!', '012345', 'Acme'), '012345\nWelcome to Acme!')
  t.equal(renderAuthMessage('{code} {code}', '1234', 'Acme'), '1234 1234', 'every occurrence')
})
