import { test } from 'tap'
import { randomBase64url } from '../../lib/random.js'

test('randomBase64url: the asked size, never the same value twice, across pool refills', async (t) => {
  // 1,000 tokens of 32 bytes: about eight refills of the 4 KiB pool.
  const values = Array.from({ length: 1000 }, () => randomBase64url(32))
  t.ok(values.every((value) => Buffer.from(value, 'base64url').length === 32), 'each is 32 bytes')
  t.equal(new Set(values).size, 1000, 'no value repeats')
  t.equal(Buffer.from(randomBase64url(5000), 'base64url').length, 5000, 'a size over the pool comes straight from the CSPRNG')
  t.equal(Buffer.from(randomBase64url(4096), 'base64url').length, 4096, 'a whole pool at once')
  // Uniform enough: every byte value appears among 64 KiB of output.
  const bytes = Buffer.concat(Array.from({ length: 2048 }, () => Buffer.from(randomBase64url(32), 'base64url')))
  t.equal(new Set(bytes).size, 256)
})
