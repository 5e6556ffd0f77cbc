import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import type { JwtAlgorithm } from '../lib/keys.js'
import { KeyRingError, rotateJwks } from '../lib/keys.js'

const USAGE = 'usage: npm run keys:rotate -- [keys-file] [--write] [--last]\n' +
  '  keys-file  the JWKS with private keys (default: JWT_KEYS_FILE); a missing file starts a new key set\n' +
  '  --write    replace the file (mode 600) instead of printing the rotated key set\n' +
  '  --last     add the new key last: published and verifying, not yet signing (pre-publication step)\n' +
  '  JWT_ALGORITHM picks the key type (ES256, EdDSA or HS256); default: the alg of the file\'s first key, else ES256\n'

const ALGORITHMS: readonly JwtAlgorithm[] = ['HS256', 'ES256', 'EdDSA']

export interface RotateResult {
  /** What goes to stdout: the rotated JWKS, or a note that the file was written. */
  stdout: string
  file: string | undefined
}

/** Generates a new key and returns (or writes) the rotated JWKS; throws KeyRingError with a readable message. */
export function rotateKeysCommand (argv: readonly string[], env: Record<string, string | undefined>): RotateResult {
  const unknown = argv.filter((arg) => arg.startsWith('-') && arg !== '--write' && arg !== '--last')
  if (unknown.length > 0) throw new KeyRingError(`unknown option ${unknown[0] ?? ''}\n${USAGE}`)
  const file = argv.find((arg) => !arg.startsWith('-')) ?? env.JWT_KEYS_FILE
  const write = argv.includes('--write')
  if (write && file === undefined) throw new KeyRingError(`--write needs a keys file (argument or JWT_KEYS_FILE)\n${USAGE}`)

  let current: unknown
  if (file !== undefined && existsSync(file)) {
    try {
      current = JSON.parse(readFileSync(file, 'utf8'))
    } catch {
      throw new KeyRingError(`${file}: is not valid JSON`)
    }
  }
  const firstAlg = (current as { keys?: Array<{ alg?: unknown }> } | undefined)?.keys?.[0]?.alg
  const requested = env.JWT_ALGORITHM ?? (typeof firstAlg === 'string' ? firstAlg : 'ES256')
  const algorithm = ALGORITHMS.find((alg) => alg === requested)
  if (algorithm === undefined) throw new KeyRingError(`JWT_ALGORITHM must be one of ${ALGORITHMS.join(', ')}`)

  const rotated = JSON.stringify(rotateJwks(algorithm, current, argv.includes('--last') ? 'last' : 'first'), null, 2) + '\n'
  if (!write || file === undefined) return { stdout: rotated, file }
  // Write beside the target, then rename: a crash never leaves a half-written key file.
  const temporary = `${file}.${process.pid}.tmp`
  writeFileSync(temporary, rotated, { mode: 0o600 })
  renameSync(temporary, file)
  return { stdout: `wrote ${file}\n`, file }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  if (existsSync('.env')) process.loadEnvFile('.env')
  try {
    process.stdout.write(rotateKeysCommand(process.argv.slice(2), process.env).stdout)
  } catch (error) {
    if (!(error instanceof KeyRingError)) throw error
    process.stderr.write(`keys:rotate: ${error.message}\n`)
    process.exitCode = 1
  }
}
