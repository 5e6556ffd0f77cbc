import { test } from 'tap'
import { execFile } from 'node:child_process'
import { readFileSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { fileURLToPath } from 'node:url'
import { keyRingFromJwks } from '../../lib/keys.js'
import { loadConfig } from '../../lib/config.js'
import { build } from '../../app.js'
import { rotateKeysCommand } from '../../scripts/keys-rotate.js'

const kids = (jwks: { keys: Array<{ kid: string }> }): string[] => jwks.keys.map((key) => key.kid)
const read = (file: string): { keys: Array<{ kid: string, alg: string, kty: string }> } => JSON.parse(readFileSync(file, 'utf8'))

test('keys:rotate creates a missing file with its folder (mode 600), reviews an existing one, and replaces it only with --write', async (t) => {
  const file = join(t.testdir(), 'keys', 'nested', 'jwks.json')
  const created = rotateKeysCommand([file], { JWT_ALGORITHM: 'EdDSA' })
  t.match(created.stdout, `wrote ${file} (mode 600), a new EdDSA key set`)
  t.equal(statSync(file).mode & 0o777, 0o600, 'private keys are not world-readable')
  t.equal(statSync(join(file, '..')).mode & 0o777, 0o700, 'nor is their folder')
  const initial = read(file)
  t.equal(initial.keys.length, 1)

  const review = rotateKeysCommand([], { JWT_KEYS_FILE: file })
  t.match(review.stdout, /exists and is unchanged[\s\S]*signs and verifies[\s\S]*verifies[\s\S]*--write/)
  t.same(read(file), initial, 'without --write the file is untouched')

  rotateKeysCommand([file, '--write'], {})
  const rotated = read(file)
  t.equal(rotated.keys.length, 2, 'the algorithm comes from the file')
  t.same(rotated.keys[1], initial.keys[0], 'the new key first, the old one after it')
  t.equal(keyRingFromJwks('EdDSA', rotated).signing.kid, rotated.keys[0]?.kid)

  rotateKeysCommand([file, '--write', '--last'], {})
  t.same(kids(read(file))[0], kids(rotated)[0], '--last keeps the signing key first')
})

test('keys:rotate prints no private key material unless --print-private asks for it', async (t) => {
  const file = join(t.testdir(), 'jwks.json')
  for (const alg of ['HS256', 'ES256', 'EdDSA']) {
    const out = rotateKeysCommand([join(file + alg)], { JWT_ALGORITHM: alg }).stdout + rotateKeysCommand([join(file + alg)], {}).stdout + rotateKeysCommand([join(file + alg), '--write'], {}).stdout
    const secrets = read(file + alg).keys.flatMap((key) => Object.entries(key).filter(([name]) => ['d', 'k'].includes(name)).map(([, value]) => String(value)))
    t.ok(secrets.length >= 2, `${alg}: the file holds private members`)
    for (const secret of secrets) t.notMatch(out, secret, `${alg}: no private value printed`)
    t.notMatch(out, /"d"|"k"/)
  }
  const printed = JSON.parse(rotateKeysCommand([file + 'HS256', '--print-private'], {}).stdout)
  t.equal(printed.keys.length, 3, 'asked explicitly: the rotated set with its secrets')
  t.equal(read(file + 'HS256').keys.length, 2, 'and nothing written')
})

test('with the default configuration the created file is one the service starts with', async (t) => {
  const file = join(t.testdir(), 'keys', 'jwks.json')
  t.match(rotateKeysCommand([file], {}).stdout, 'a new HS256 key set', 'HS256, as the service defaults to')
  const app = await build({ config: loadConfig({ LOG_LEVEL: 'silent', JWT_KEYS_FILE: file }, { secretsFile: null }) })
  t.teardown(() => app.close())
  await app.ready()
  const minted = await app.inject({ method: 'POST', url: '/gen-jwt', headers: { 'x-api-key': app.config.apiKeys[0] ?? '' }, payload: {} })
  t.equal(minted.statusCode, 200)
  t.equal(JSON.parse(Buffer.from(String(minted.json<{ token: string }>().token.split('.')[0]), 'base64url').toString()).kid, read(file).keys[0]?.kid)
})

test('keys:rotate refuses what it cannot do, with a readable message', async (t) => {
  const dir = t.testdir({ 'broken.json': '{' })
  t.throws(() => rotateKeysCommand(['--force'], {}), /unknown option --force/)
  t.throws(() => rotateKeysCommand([join(dir, 'broken.json')], {}), /is not valid JSON/)
  t.throws(() => rotateKeysCommand([join(dir, 'x.json')], { JWT_ALGORITHM: 'RS256' }), /JWT_ALGORITHM must be one of/)
  rotateKeysCommand([join(dir, 'es.json')], { JWT_ALGORITHM: 'ES256' })
  t.throws(() => rotateKeysCommand([join(dir, 'es.json')], { JWT_ALGORITHM: 'EdDSA' }), /alg must be EdDSA/)
  writeFileSync(join(dir, 'blocker'), '')
  t.throws(() => rotateKeysCommand([join(dir, 'blocker', 'jwks.json')], {}), /ENOTDIR|EEXIST/, 'a file where the folder should be')
})

test('npm run keys:rotate in a fresh clone: keys/jwks.json is created and git-ignored; failures are one line, no stack', async (t) => {
  const root = fileURLToPath(new URL('../..', import.meta.url))
  const cwd = t.testdir({ 'not-a-dir': '' })
  const tsx = join(root, 'node_modules/.bin/tsx')
  const script = join(root, 'scripts/keys-rotate.ts')
  const env = { ...process.env, JWT_ALGORITHM: '', JWT_KEYS_FILE: '' }
  const { stdout } = await promisify(execFile)(tsx, [script], { cwd, env })
  t.match(stdout, 'wrote keys/jwks.json (mode 600), a new HS256 key set')
  t.match(read(join(cwd, 'keys/jwks.json')), { keys: [{ kty: 'oct', alg: 'HS256', use: 'sig' }] })
  t.match(readFileSync(join(root, '.gitignore'), 'utf8'), /^keys\/$/m, 'keys/ is git-ignored')
  t.match(readFileSync(join(root, '.gitignore'), 'utf8'), /^\.tokenmint\/$/m, '.tokenmint/ is git-ignored')
  for (const args of [['--bogus'], ['not-a-dir/jwks.json']]) {
    const failed = await promisify(execFile)(tsx, [script, ...args], { cwd, env }).catch((error: { code: number, stderr: string }) => error)
    t.match(failed, { code: 1, stderr: /^keys:rotate: / }, args.join(' '))
    t.notMatch((failed as { stderr: string }).stderr, /\n\s+at /, 'no stack trace')
  }
})
