import { hash, randomBytes, timingSafeEqual } from 'node:crypto'
import { parse as parseYaml } from 'yaml'
import { apiKeyId } from './api-keys.js'
import { SETTINGS } from './settings.js'
import type { Rate } from './settings.js'

/** Route groups an API client may call; `admin` also lets it revoke and introspect other clients' tokens. */
export const SCOPES = ['mint', 'appverify', 'verify', 'accounts', 'tokens', 'events', 'admin'] as const
export type Scope = typeof SCOPES[number]

export interface ApiClient {
  id: string
  name: string
  /** SHA-256 of the secret, hex: the secret itself is never stored. */
  secretSha256: string
  scopes: Scope[]
  /** Its own budget; the default (RATE_LIMIT_CLIENT) when absent. */
  rate?: Rate
  enabled: boolean
}

/** The clients file as written (snake_case, a secret's hash, a rate as text). */
export interface ClientEntry {
  id: string
  name: string
  secret_sha256: string
  scopes: string[]
  rate_limit?: string
  enabled?: boolean
}

export class ClientsFileError extends Error {
  constructor (readonly file: string, readonly reason: string) {
    super(`${file}: ${reason}`)
    this.name = 'ClientsFileError'
  }
}

const ID = /^[a-z0-9][a-z0-9_-]{0,63}$/
const SHA256_HEX = /^[0-9a-f]{64}$/

export function secretSha256 (secret: string): string {
  return hash('sha256', secret, 'hex')
}

/** A new client secret: prefixed with the client id so a leaked one says whose it is, 192 random bits. */
export function newSecret (id: string): string {
  return `tm_${id}_${randomBytes(24).toString('base64url')}`
}

/** API_KEYS as unnamed clients with every scope, their id the key id the banner and logs already show. */
export function clientsFromApiKeys (keys: readonly string[]): ApiClient[] {
  return keys.map((key) => ({ id: apiKeyId(key), name: 'API_KEYS', secretSha256: secretSha256(key), scopes: [...SCOPES], enabled: true }))
}

/** Reads the clients file's text (JSON or YAML); every problem is a ClientsFileError naming the entry. */
export function parseClients (file: string, text: string): { clients: ApiClient[], entries: ClientEntry[] } {
  let document: unknown
  try {
    document = file.endsWith('.json') ? JSON.parse(text) : parseYaml(text)
  } catch {
    throw new ClientsFileError(file, `is not valid ${file.endsWith('.json') ? 'JSON' : 'YAML'}`)
  }
  const list = (document as { clients?: unknown } | null)?.clients ?? (document === null || document === undefined ? [] : undefined)
  if (!Array.isArray(list)) throw new ClientsFileError(file, 'must hold `clients:`, a list of clients')
  const ids = new Set<string>()
  const hashes = new Set<string>()
  const clients = list.map((raw: unknown, index): ApiClient => {
    const entry = (raw ?? {}) as Partial<Record<keyof ClientEntry, unknown>>
    const where = `client ${index + 1}${typeof entry.id === 'string' ? ` (${entry.id})` : ''}`
    const fail = (reason: string): never => { throw new ClientsFileError(file, `${where}: ${reason}`) }
    if (typeof entry.id !== 'string' || !ID.test(entry.id)) fail('id must be 1 to 64 of a-z, 0-9, _ and -, starting with a letter or digit')
    const id = entry.id as string
    if (ids.has(id)) fail('the id is used twice')
    ids.add(id)
    if (typeof entry.secret_sha256 !== 'string' || !SHA256_HEX.test(entry.secret_sha256)) fail('secret_sha256 must be 64 lowercase hex digits (npm run clients -- add writes it)')
    const hash = entry.secret_sha256 as string
    if (hashes.has(hash)) fail('two clients share a secret')
    hashes.add(hash)
    const scopes = entry.scopes
    if (!Array.isArray(scopes) || scopes.length === 0 || !scopes.every((scope) => SCOPES.includes(scope as Scope))) {
      fail(`scopes must be a list of ${SCOPES.join(', ')}`)
    }
    if (entry.enabled !== undefined && typeof entry.enabled !== 'boolean') fail('enabled must be true or false')
    let rate: Rate | undefined
    if (entry.rate_limit !== undefined) {
      const parsed = typeof entry.rate_limit === 'string' ? SETTINGS.RATE_LIMIT_CLIENT.parse(entry.rate_limit) : undefined
      if (parsed?.ok !== true) fail('rate_limit must look like "6000 per minute"')
      else rate = parsed.value
    }
    return {
      id,
      name: typeof entry.name === 'string' && entry.name.trim() !== '' ? entry.name.trim() : id,
      secretSha256: hash,
      scopes: [...new Set(scopes as Scope[])],
      ...(rate === undefined ? {} : { rate }),
      enabled: entry.enabled !== false
    }
  })
  return { clients, entries: list as ClientEntry[] }
}

/** Clients by the SHA-256 of their secret (a lookup on a digest says nothing about the secret through its timing) and by id. */
export class ClientRegistry {
  readonly #byHash: Map<string, ApiClient>
  readonly #byId: Map<string, ApiClient>

  constructor (readonly clients: readonly ApiClient[]) {
    this.#byHash = new Map(clients.map((client) => [client.secretSha256, client]))
    this.#byId = new Map(clients.map((client) => [client.id, client]))
  }

  /** The enabled client whose secret this is (X-API-Key), or undefined. */
  match (secret: string): ApiClient | undefined {
    const client = this.#byHash.get(secretSha256(secret))
    return client?.enabled === true ? client : undefined
  }

  /** The enabled client with this id and secret (HTTP Basic), or undefined; the digests are compared whether or not the id exists. */
  authenticate (id: string, secret: string): ApiClient | undefined {
    const client = this.#byId.get(id)
    const matches = timingSafeEqual(Buffer.from(secretSha256(secret), 'hex'), Buffer.from(client?.secretSha256 ?? '0'.repeat(64), 'hex'))
    return matches && client?.enabled === true ? client : undefined
  }

  byId (id: string): ApiClient | undefined {
    return this.#byId.get(id)
  }
}
