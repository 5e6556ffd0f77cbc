import { test } from 'tap'
import { execFile } from 'node:child_process'
import { readFileSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { fileURLToPath } from 'node:url'
import { keyRingFromJwks } from '../../lib/keys.js'
import { rotateKeysCommand } from '../../scripts/keys-rotate.js'

const kids = (jwks: { keys: Array<{ kid: string }> }): string[] => jwks.keys.map((key) => key.kid)

test('keys:rotate prints a rotated key set, new key first, and --write replaces the file', async (t) => {
  const file = join(t.testdir(), 'jwks.json')
  t.equal(rotateKeysCommand([file, '--write'], { JWT_ALGORITHM: 'EdDSA' }).stdout, `wrote ${file}\n`)
  t.equal(statSync(file).mode & 0o777, 0o600, 'private keys are not world-readable')
  const initial = JSON.parse(readFileSync(file, 'utf8'))
  t.equal(initial.keys.length, 1)

  const printed = JSON.parse(rotateKeysCommand([], { JWT_KEYS_FILE: file }).stdout)
  t.equal(printed.keys.length, 2, 'the algorithm comes from the file')
  t.same(printed.keys[1], initial.keys[0])
  t.equal(keyRingFromJwks('EdDSA', printed).signing.kid, printed.keys[0].kid)
  t.same(JSON.parse(readFileSync(file, 'utf8')), initial, 'printing does not touch the file')

  rotateKeysCommand([file, '--write', '--last'], {})
  const staged = JSON.parse(readFileSync(file, 'utf8'))
  t.same(kids(staged)[0], kids(initial)[0], '--last keeps the signing key first')
  t.equal(staged.keys.length, 2)
})

test('keys:rotate refuses what it cannot do, with a readable message', async (t) => {
  const dir = t.testdir({ 'broken.json': '{' })
  t.throws(() => rotateKeysCommand(['--force'], {}), /unknown option --force/)
  t.throws(() => rotateKeysCommand(['--write'], {}), /--write needs a keys file/)
  t.throws(() => rotateKeysCommand([join(dir, 'broken.json')], {}), /is not valid JSON/)
  t.throws(() => rotateKeysCommand([], { JWT_ALGORITHM: 'RS256' }), /JWT_ALGORITHM must be one of/)
  writeFileSync(join(dir, 'es.json'), rotateKeysCommand([], { JWT_ALGORITHM: 'ES256' }).stdout)
  t.throws(() => rotateKeysCommand([join(dir, 'es.json')], { JWT_ALGORITHM: 'EdDSA' }), /alg must be EdDSA/)
  t.match(JSON.parse(rotateKeysCommand([], {}).stdout), { keys: [{ alg: 'ES256', kty: 'EC' }] }, 'ES256 by default')
})

test('npm run keys:rotate runs the script with tsx', async (t) => {
  const root = fileURLToPath(new URL('../..', import.meta.url))
  const { stdout } = await promisify(execFile)(join(root, 'node_modules/.bin/tsx'), ['scripts/keys-rotate.ts'], { cwd: root, env: { ...process.env, JWT_ALGORITHM: 'HS256', JWT_KEYS_FILE: '' } })
  t.match(JSON.parse(stdout), { keys: [{ kty: 'oct', alg: 'HS256', use: 'sig' }] })
  const failed = await promisify(execFile)(join(root, 'node_modules/.bin/tsx'), ['scripts/keys-rotate.ts', '--bogus'], { cwd: root }).catch((error: { code: number, stderr: string }) => error)
  t.match(failed, { code: 1, stderr: /keys:rotate: unknown option --bogus/ })
})
