import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { dirname } from 'node:path'

/** Development secrets generated on first start and kept (mode 0600) so they survive restarts. */
export interface DevSecrets {
  API_KEYS?: string
  JWT_SECRET?: string
  OTP_PEPPER?: string
  APPVERIFY_API_KEY?: string
  [name: string]: string | undefined
}

export function loadDevSecrets (file: string | null | undefined): { values: DevSecrets, dirty: boolean } {
  if (file == null || !existsSync(file)) return { values: {}, dirty: false }
  try {
    const parsed: unknown = JSON.parse(readFileSync(file, 'utf8'))
    if (parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed)) {
      const values: DevSecrets = {}
      for (const [name, value] of Object.entries(parsed)) {
        if (typeof value === 'string') values[name] = value
      }
      return { values, dirty: false }
    }
  } catch {
    // A damaged secrets file is regenerated rather than blocking development.
  }
  return { values: {}, dirty: true }
}

export function saveDevSecrets (file: string | null | undefined, values: DevSecrets): void {
  if (file == null) return
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 })
  writeFileSync(file, JSON.stringify(values, null, 2) + '\n', { mode: 0o600 })
  chmodSync(file, 0o600)
}
