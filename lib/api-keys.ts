import { hash } from 'node:crypto'

const KEY_ID_LENGTH = 12

/** A key's public id: the first 12 hex digits of its SHA-256, safe to print and log. */
export function apiKeyId (key: string): string {
  return hash('sha256', key, 'hex').slice(0, KEY_ID_LENGTH)
}
