import { watch, readFileSync } from 'node:fs'
import type { FSWatcher } from 'node:fs'
import { basename, dirname, resolve } from 'node:path'
import fp from 'fastify-plugin'
import type { FastifyInstance } from 'fastify'
import { ClientRegistry, ClientsFileError, clientsFromApiKeys, parseClients } from '../lib/clients.js'
import type { ApiClient } from '../lib/clients.js'
import { ConfigError } from '../lib/config.js'

export interface ClientDirectory {
  /** The enabled client a secret belongs to, or undefined. */
  match (secret: string): ApiClient | undefined
  /** The enabled client with this id and secret (client_secret_basic), or undefined. */
  authenticate (id: string, secret: string): ApiClient | undefined
  byId (id: string): ApiClient | undefined
  /** Reads API_CLIENTS_FILE again; on failure the current set stays and the reason is returned (and logged). */
  reload (): { ok: true, count: number } | { ok: false, reason: string }
}

declare module 'fastify' {
  interface FastifyInstance {
    clients: ClientDirectory
  }
}

/** Changes within this many ms are one reload: an editor or the CLI writes a file and renames it. */
const RELOAD_DEBOUNCE_MS = 50

/**
 * `fastify.clients`: the API clients, from API_KEYS (unnamed, every scope) and API_CLIENTS_FILE
 * (named, scoped, each with its own budget). The file is read at start (a broken file stops the
 * start) and again on every change and on SIGHUP; a reload that fails keeps the clients as they were.
 */
async function clientsPlugin (fastify: FastifyInstance): Promise<void> {
  const { apiKeys, apiClientsFile } = fastify.config
  const fromKeys = clientsFromApiKeys(apiKeys)
  const read = (): ClientRegistry => new ClientRegistry([...fromKeys, ...(apiClientsFile === undefined ? [] : parseClients(apiClientsFile, readFile(apiClientsFile)).clients)])

  let registry: ClientRegistry
  try {
    registry = read()
  } catch (error) {
    if (error instanceof ClientsFileError) throw new ConfigError([`API_CLIENTS_FILE ${error.message}`])
    throw error
  }

  const directory: ClientDirectory = {
    match: (secret) => registry.match(secret),
    authenticate: (id, secret) => registry.authenticate(id, secret),
    byId: (id) => registry.byId(id),
    reload () {
      try {
        registry = read()
        fastify.log.info({ clients: registry.clients.length }, 'API clients reloaded')
        return { ok: true, count: registry.clients.length }
      } catch (error) {
        const reason = error instanceof ClientsFileError ? error.message : 'the file could not be read'
        fastify.log.warn({ reason }, 'API clients file not reloaded: keeping the clients as they were')
        return { ok: false, reason }
      }
    }
  }
  fastify.decorate('clients', directory)
  if (apiClientsFile === undefined) return

  // The folder is watched, not the file: a rename over it (how the CLI and editors save) replaces the watched inode.
  const target = resolve(apiClientsFile)
  let timer: NodeJS.Timeout | undefined
  const soon = (): void => {
    clearTimeout(timer)
    timer = setTimeout(() => { directory.reload() }, RELOAD_DEBOUNCE_MS)
  }
  let watcher: FSWatcher | undefined
  try {
    watcher = watch(dirname(target), (_event, name) => { if (name === null || name === basename(target)) soon() })
    watcher.on('error', () => { fastify.log.warn('API clients file: watching stopped; send SIGHUP to reload') })
  } catch {
    fastify.log.warn('API clients file: its folder cannot be watched; send SIGHUP to reload')
  }
  const onHangup = (): void => { directory.reload() }
  process.on('SIGHUP', onHangup)
  fastify.addHook('onClose', async () => {
    clearTimeout(timer)
    watcher?.close()
    process.off('SIGHUP', onHangup)
  })
}

function readFile (file: string): string {
  try {
    return readFileSync(file, 'utf8')
  } catch (error) {
    throw new ClientsFileError(file, `cannot be read (${String((error as { code?: unknown }).code ?? 'error')})`)
  }
}

export default fp(clientsPlugin, { name: 'clients', dependencies: ['config'] })
