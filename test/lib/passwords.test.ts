import { test } from 'tap'
import { dummyPasswordHash, hashPassword, normalizePassword, normalizeUsername, verifyPassword } from '../../lib/passwords.js'

test('usernames are NFKC, lower-case, 3..64 of [a-z0-9._-]', async (t) => {
  t.equal(normalizeUsername('Alice'), 'alice')
  t.equal(normalizeUsername('ＡＬＩＣＥ'), 'alice')
  t.equal(normalizeUsername('a.b_c-9'), 'a.b_c-9')
  for (const bad of ['ab', 'x'.repeat(65), 'a b', 'ali@ce', 'élan', '', 'constructor ']) t.equal(normalizeUsername(bad), undefined, bad)
  t.equal(normalizeUsername('x'.repeat(64)), 'x'.repeat(64))
})

test('passwords are NFKC, 8..128 code points, no control characters', async (t) => {
  t.equal(normalizePassword('ﬁne passphrase'), 'fine passphrase')
  t.equal(normalizePassword('😀'.repeat(8)), '😀'.repeat(8))
  t.equal(normalizePassword('😀'.repeat(129)), undefined)
  t.equal(normalizePassword('x'.repeat(128)), 'x'.repeat(128))
  for (const bad of ['short', 'x'.repeat(129), 'nul\u0000inside', 'del\u007finside!']) t.equal(normalizePassword(bad), undefined)
})

test('scrypt hashes carry their parameters and a per-user salt', async (t) => {
  const first = await hashPassword('correct horse battery')
  const second = await hashPassword('correct horse battery')
  t.match(first, /^\$scrypt\$ln=15,r=8,p=1\$/)
  t.not(first, second, 'a fresh salt each time')
  t.equal(await verifyPassword('correct horse battery', first), true)
  t.equal(await verifyPassword('correct horse batterY', first), false)

  const cheap = await hashPassword('another password', { ln: 10, r: 8, p: 1 })
  t.match(cheap, /^\$scrypt\$ln=10,/)
  t.equal(await verifyPassword('another password', cheap), true, 'older or cheaper parameters still verify')

  for (const malformed of ['', 'plain', cheap.replace('ln=10', 'ln=30'), cheap.replace('ln=10', 'ln=9'), cheap.replace('r=8', 'r=64'), cheap.replace('p=1', 'p=99'), `${cheap.slice(0, -4)}`]) {
    t.equal(await verifyPassword('another password', malformed), false)
  }
  t.equal(await dummyPasswordHash(), await dummyPasswordHash(), 'the dummy hash is computed once')
  t.equal(await verifyPassword('another password', await dummyPasswordHash()), false)
})
