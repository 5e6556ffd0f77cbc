import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import { dirname } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { JwtAlgorithm } from '../lib/keys.js'
import { KeyRingError, rotateJwks } from '../lib/keys.js'
import { SETTINGS } from '../lib/settings.js'

export const DEFAULT_KEYS_FILE = 'keys/jwks.json'

const USAGE = 'usage: npm run keys:rotate -- [keys-file] [--write] [--last] [--print-private]\n' +
  `  keys-file        the JWKS with private keys (default: JWT_KEYS_FILE, else ${DEFAULT_KEYS_FILE}); a missing file is created with one new key, folder included\n` +
  '  --write          replace an existing file with the rotated set (without it an existing file is only reviewed)\n' +
  '  --last           add the new key last: published and verifying, not yet signing (pre-publication step)\n' +
  '  --print-private  print the rotated set, private keys included, to stdout instead of writing anything\n' +
  '  The algorithm is the service\'s: the file\'s keys when it has some, else JWT_ALGORITHM (default HS256).\n'

const OPTIONS = ['--write', '--last', '--print-private']

export interface RotateResult {
  /** What goes to stdout: a summary without key material, or the private set when asked for. */
  stdout: string
  file: string
}

interface Jwk { kid?: unknown, alg?: unknown, kty?: unknown }

function summary (jwks: { keys: unknown[] }): string {
  return (jwks.keys as Jwk[]).map((key, index) => `  ${String(key.kid)}  ${String(key.alg)}  ${index === 0 ? 'signs and verifies' : 'verifies'}`).join('\n')
}

/** Writes beside the target, then renames: a crash never leaves a half-written key file. Mode 600, folder 700. */
function writeKeys (file: string, text: string): void {
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 })
  const temporary = `${file}.${process.pid}.tmp`
  writeFileSync(temporary, text, { mode: 0o600 })
  renameSync(temporary, file)
}

/** Generates a new key and writes (or reviews, or on request prints) the rotated JWKS; throws KeyRingError with a readable message. */
export function rotateKeysCommand (argv: readonly string[], env: Record<string, string | undefined>): RotateResult {
  const unknown = argv.filter((arg) => arg.startsWith('-') && !OPTIONS.includes(arg))
  if (unknown.length > 0) throw new KeyRingError(`unknown option ${unknown[0] ?? ''}\n${USAGE}`)
  const file = argv.find((arg) => !arg.startsWith('-')) ?? (env.JWT_KEYS_FILE?.trim() || DEFAULT_KEYS_FILE)

  let current: unknown
  if (existsSync(file)) {
    try {
      current = JSON.parse(readFileSync(file, 'utf8'))
    } catch {
      throw new KeyRingError(`${file}: is not valid JSON`)
    }
  }
  const algorithm = chooseAlgorithm(current, env.JWT_ALGORITHM)
  const rotated = rotateJwks(algorithm, current, argv.includes('--last') ? 'last' : 'first')
  const text = JSON.stringify(rotated, null, 2) + '\n'

  if (argv.includes('--print-private')) return { stdout: text, file }
  if (current === undefined) {
    writeKeys(file, text)
    return { stdout: `wrote ${file} (mode 600), a new ${algorithm} key set:\n${summary(rotated)}\nStart the service with JWT_KEYS_FILE=${file} JWT_ALGORITHM=${algorithm}.\n`, file }
  }
  if (!argv.includes('--write')) {
    return { stdout: `${file} exists and is unchanged. Rotated, it would hold:\n${summary(rotated)}\nRun again with --write to replace it.\n`, file }
  }
  writeKeys(file, text)
  return { stdout: `wrote ${file} (mode 600):\n${summary(rotated)}\n`, file }
}

/** The file's algorithm when it has keys (JWT_ALGORITHM must then agree), else the service's setting. */
function chooseAlgorithm (current: unknown, configured: string | undefined): JwtAlgorithm {
  const setting = SETTINGS.JWT_ALGORITHM
  const fromEnv = configured === undefined || configured.trim() === '' ? undefined : setting.parse(configured.trim())
  if (fromEnv !== undefined && !fromEnv.ok) throw new KeyRingError(`JWT_ALGORITHM ${fromEnv.problem}`)
  const firstAlg = (current as { keys?: Jwk[] } | undefined)?.keys?.[0]?.alg
  const fromFile = typeof firstAlg === 'string' ? setting.parse(firstAlg) : undefined
  if (fromEnv !== undefined) return fromEnv.value
  return fromFile?.ok === true ? fromFile.value : setting.fallback
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  if (existsSync('.env')) process.loadEnvFile('.env')
  try {
    process.stdout.write(rotateKeysCommand(process.argv.slice(2), process.env).stdout)
  } catch (error) {
    const reason = error instanceof KeyRingError ? error.message : `the key file could not be written (${String((error as { code?: unknown }).code ?? 'unknown error')}): check the folder and its permissions`
    process.stderr.write(`keys:rotate: ${reason}\n`)
    process.exitCode = 1
  }
}
