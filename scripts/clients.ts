import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import { dirname } from 'node:path'
import { fileURLToPath } from 'node:url'
import { stringify } from 'yaml'
import { ClientsFileError, newSecret, parseClients, SCOPES, secretSha256 } from '../lib/clients.js'
import type { ClientEntry } from '../lib/clients.js'

export const DEFAULT_CLIENTS_FILE = 'clients.yaml'

const USAGE = [
  'usage: npm run clients -- <command> [--file F]',
  '  add <id> [--name N] [--scopes a,b] [--rate "6000 per minute"]   a new client; its secret is shown once',
  '  list                                                            every client, without secrets',
  '  disable <id> | enable <id>                                      refused (or accepted again) within a second, no restart',
  '  rotate <id>                                                     a new secret, shown once; the old one stops working',
  `  --file F   the clients file (default: API_CLIENTS_FILE, else ${DEFAULT_CLIENTS_FILE}); the service reloads it on change`,
  `  scopes: ${SCOPES.join(', ')} (default: all but admin)`
].join('\n') + '\n'

export class ClientsCommandError extends Error {}

function option (argv: readonly string[], name: string): string | undefined {
  const index = argv.indexOf(name)
  if (index === -1) return undefined
  const value = argv[index + 1]
  if (value === undefined || value.startsWith('--')) throw new ClientsCommandError(`${name} needs a value\n${USAGE}`)
  return value
}

function load (file: string): ClientEntry[] {
  if (!existsSync(file)) return []
  return parseClients(file, readFileSync(file, 'utf8')).entries
}

/** Writes beside the file, then renames: the service never reads half a file. */
function save (file: string, entries: ClientEntry[]): void {
  mkdirSync(dirname(file), { recursive: true })
  const text = file.endsWith('.json') ? JSON.stringify({ clients: entries }, null, 2) + '\n' : stringify({ clients: entries })
  parseClients(file, text) // never write a file the service would refuse
  const temporary = `${file}.${process.pid}.tmp`
  writeFileSync(temporary, text, { mode: 0o600 })
  renameSync(temporary, file)
}

/** Runs one command against the clients file; returns what to print. */
export function clientsCommand (argv: readonly string[], env: Record<string, string | undefined>): string {
  const [command, id] = argv.filter((arg, i) => !arg.startsWith('--') && !(i > 0 && (argv[i - 1] ?? '').startsWith('--')))
  const file = option(argv, '--file') ?? (env.API_CLIENTS_FILE?.trim() || DEFAULT_CLIENTS_FILE)
  const entries = load(file)
  const find = (): ClientEntry => {
    const entry = entries.find((e) => e.id === id)
    if (entry === undefined) throw new ClientsCommandError(`no client "${String(id)}" in ${file}`)
    return entry
  }
  switch (command) {
    case 'list':
      if (entries.length === 0) return `${file}: no clients\n`
      return entries.map((e) => `${e.id}\t${e.enabled === false ? 'disabled' : 'enabled'}\t${e.scopes.join(',')}\t${e.rate_limit ?? 'default budget'}\t${e.name}`).join('\n') + '\n'
    case 'add': {
      if (id === undefined) throw new ClientsCommandError(`add needs an id\n${USAGE}`)
      if (entries.some((e) => e.id === id)) throw new ClientsCommandError(`a client "${id}" exists already; rotate its secret instead`)
      const secret = newSecret(id)
      const rate = option(argv, '--rate')
      entries.push({
        id,
        name: option(argv, '--name') ?? id,
        secret_sha256: secretSha256(secret),
        scopes: (option(argv, '--scopes') ?? SCOPES.filter((s) => s !== 'admin').join(',')).split(',').map((s) => s.trim()).filter((s) => s !== ''),
        ...(rate === undefined ? {} : { rate_limit: rate }),
        enabled: true
      })
      save(file, entries)
      return `added ${id} to ${file}. Its secret, shown this once (send it as X-API-Key):\n${secret}\n`
    }
    case 'rotate': {
      const entry = find()
      const secret = newSecret(entry.id)
      entry.secret_sha256 = secretSha256(secret)
      save(file, entries)
      return `rotated ${entry.id}: the old secret stops working as soon as the service reloads ${file}. The new one, shown this once:\n${secret}\n`
    }
    case 'disable':
    case 'enable': {
      const entry = find()
      entry.enabled = command === 'enable'
      save(file, entries)
      return `${entry.id} is ${command}d\n`
    }
    default:
      throw new ClientsCommandError(USAGE)
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  if (existsSync('.env')) process.loadEnvFile('.env')
  try {
    process.stdout.write(clientsCommand(process.argv.slice(2), process.env))
  } catch (error) {
    const known = error instanceof ClientsCommandError || error instanceof ClientsFileError
    process.stderr.write(`clients: ${known ? error.message : `the clients file could not be written (${String((error as { code?: unknown }).code ?? 'error')})`}\n`)
    process.exitCode = 1
  }
}
