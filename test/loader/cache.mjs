// The test suite's file cache, node_modules/.cache/tokenmint-tests: what the suite's processes would
// otherwise each compute again (transpiled TypeScript, openapi.yaml as JSON), under names derived
// from a hash of everything the entry depends on. An entry is never updated, only added; `npm ci`
// or deleting the directory empties it.
import { createHash } from 'node:crypto'
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

const cacheDir = fileURLToPath(new URL('../../node_modules/.cache/tokenmint-tests/', import.meta.url))

/** The entry's file name: `prefix-sha256(parts joined by NUL)extension`. */
export function cacheEntry (prefix, extension, ...parts) {
  return `${cacheDir}${prefix}-${createHash('sha256').update(parts.join('\0')).digest('hex')}${extension}`
}

/** The entry's text, or undefined when it is not there yet. */
export function readCached (entry) {
  try {
    return readFileSync(entry, 'utf8')
  } catch {
    return undefined
  }
}

/**
 * Writes the entry under a private name and renames it, so a parallel process reads all of it or
 * none. A failure (say an unwritable node_modules) only means computing it again next time.
 */
export function writeCached (entry, text) {
  const partial = `${entry}.${process.pid}.${Math.random().toString(36).slice(2)}`
  try {
    mkdirSync(cacheDir, { recursive: true })
    writeFileSync(partial, text)
    renameSync(partial, entry)
  } catch {
    rmSync(partial, { force: true })
  }
}
