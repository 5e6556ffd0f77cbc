import { execFile } from 'node:child_process'
import { readdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { test } from 'tap'
import { API_KEY, buildTestApp } from '../helper.js'

const run = promisify(execFile)
const clientDir = fileURLToPath(new URL('../../client/', import.meta.url))
const tsc = fileURLToPath(new URL('../../node_modules/typescript/bin/tsc', import.meta.url))

// client/ as its own package: npm pack builds it, the tarball installs offline into an empty
// project, and both its JavaScript (against a live service) and its .d.ts (under tsc) work there.
test('the client packs, installs into an empty project, type-checks and calls the service', async (t) => {
  const dir = t.testdir({ consumer: { 'package.json': JSON.stringify({ name: 'consumer', private: true, type: 'module' }) } })
  const { stdout } = await run('npm', ['pack', '--json', '--pack-destination', dir], { cwd: clientDir })
  const [packed] = JSON.parse(stdout.slice(stdout.indexOf('['))) as Array<{ filename: string, files: Array<{ path: string }> }>
  const files = packed?.files.map((file) => file.path).sort()
  t.same(files, ['README.md', 'dist/index.d.ts', 'dist/index.js', 'dist/openapi-types.d.ts', 'dist/openapi-types.js', 'package.json'], 'built JS and .d.ts, nothing else')

  const consumer = join(dir, 'consumer')
  await run('npm', ['install', '--offline', '--no-audit', '--no-fund', join(dir, packed?.filename ?? '')], { cwd: consumer })
  t.ok(readdirSync(join(consumer, 'node_modules', '@tokenmint', 'client', 'dist')).includes('index.js'))

  writeFileSync(join(consumer, 'check.ts'), [
    "import { createClient, TokenmintError } from '@tokenmint/client'",
    "import type { TokenResponse } from '@tokenmint/client'",
    "const client = createClient({ baseUrl: 'http://127.0.0.1:1', apiKey: 'k' })",
    "const minted: Promise<TokenResponse> = client.genJwt({ instance_id: 'd1' })",
    "const page = client.transactions({ phone_number: '15551234567', limit: 5 })",
    'export { minted, page, TokenmintError }',
    ''
  ].join('\n'))
  writeFileSync(join(consumer, 'bad.ts'), "import { createClient } from '@tokenmint/client'\nexport const page = createClient({ baseUrl: 'x' }).transactions({ phone_number: '1', limit: '5' })\n")
  const options = ['--ignoreConfig', '--noEmit', '--strict', '--module', 'nodenext', '--moduleResolution', 'nodenext', '--target', 'es2022', '--types', 'node', '--typeRoots', fileURLToPath(new URL('../../node_modules/@types', import.meta.url))]
  await run(process.execPath, [tsc, ...options, 'check.ts'], { cwd: consumer })
  const refused = await run(process.execPath, [tsc, ...options, 'bad.ts'], { cwd: consumer }).then(() => undefined, (error: { stdout: string }) => error.stdout)
  t.match(refused, /bad\.ts.*Type 'string' is not assignable to type 'number'/s, 'the .d.ts types limit as a number')

  const app = await buildTestApp(t)
  const base = await app.listen({ host: '127.0.0.1', port: 0 })
  writeFileSync(join(consumer, 'call.mjs'), [
    "import { createClient } from '@tokenmint/client'",
    `const client = createClient({ baseUrl: ${JSON.stringify(base)}, apiKey: ${JSON.stringify(API_KEY)} })`,
    "const minted = await client.genJwt({ instance_id: 'd1' })",
    "const me = await client.withToken(minted.token, 'd1').me()",
    'process.stdout.write(JSON.stringify({ type: minted.token_type, sub: me.sub, health: (await client.health()).status }))'
  ].join('\n'))
  const called = await run(process.execPath, ['call.mjs'], { cwd: consumer })
  t.same(JSON.parse(called.stdout), { type: 'Bearer', sub: 'instance:d1', health: 'ok' })
})
