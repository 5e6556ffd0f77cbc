// `npm start` runs dist/server.js. This prestart step builds only when dist/ is missing or older
// than the sources and TypeScript is installed; a production install (npm ci --omit=dev, or
// npm prune --omit=dev after `npm run build`) runs what was built and is told what to do when
// nothing was. Plain JavaScript: it must run where no dev dependency exists.
import { existsSync, readdirSync, statSync } from 'node:fs'
import { spawnSync } from 'node:child_process'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('..', import.meta.url))
const entry = join(root, 'dist', 'server.js')
const clientsCli = join(root, 'dist', 'scripts', 'clients.js')
const sources = ['app.ts', 'server.ts', 'server-options.ts', 'plugins', 'routes', 'schemas', 'lib', 'scripts/clients.ts', 'scripts/bench', 'tsconfig.json', 'tsconfig.build.json']

function newest (path) {
  if (!existsSync(path)) return 0
  const stat = statSync(path)
  if (!stat.isDirectory()) return stat.mtimeMs
  return Math.max(0, ...readdirSync(path).map((name) => newest(join(path, name))))
}

const built = existsSync(entry) && existsSync(clientsCli) ? Math.min(statSync(entry).mtimeMs, statSync(clientsCli).mtimeMs) : 0
const stale = built === 0 || sources.some((source) => newest(join(root, source)) > built)
if (!stale) process.exit(0)

const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc')
if (!existsSync(tsc)) {
  if (built > 0) {
    process.stderr.write('tokenmint: dist/ is older than the sources, but TypeScript is not installed here: running the build as it is.\n')
    process.exit(0)
  }
  process.stderr.write([
    'tokenmint: dist/server.js is missing and TypeScript is not installed, so it cannot be built here.',
    'Build where dev dependencies are installed, then drop them:',
    '  npm ci && npm run build && npm prune --omit=dev && npm start',
    '(docs/operations.md, "Production install").',
    ''
  ].join('\n'))
  process.exit(1)
}
process.stdout.write(built === 0 ? 'tokenmint: building dist/ (first start)\n' : 'tokenmint: sources changed since the last build; rebuilding dist/\n')
const result = spawnSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.build.json')], { stdio: 'inherit' })
process.exit(result.status ?? 1)
