import { parsePhoneNumberFromString } from 'libphonenumber-js/max'

export interface PhoneNumber {
  /** Normalised E.164 form, used for storage and sending. */
  e164: string
  /** The number as the client gave it (validated), e.g. "15551234567". */
  given: string
  /** ISO 3166-1 alpha-2 region; the calling code's main region when the number fits none exactly. */
  country: string | undefined
}

const E164 = /^\+[1-9][0-9]{7,14}$/
const NANP_11_DIGITS = /^1[0-9]{10}$/

/**
 * Accepts E.164 ("+15551234567") or the 11-digit NANP form ("15551234567", or that number as a
 * JSON number) and returns undefined for anything else. ASCII digits only: full-width or other
 * Unicode digits, spaces, letters and punctuation are refused before libphonenumber sees them.
 * Numbers must be possible for their country (length rules); fictional 555 numbers pass.
 */
export function parsePhone (input: unknown): PhoneNumber | undefined {
  const given = typeof input === 'number' && Number.isSafeInteger(input) ? String(input) : input
  if (typeof given !== 'string') return undefined
  let candidate: string
  if (E164.test(given)) candidate = given
  else if (NANP_11_DIGITS.test(given)) candidate = `+${given}`
  else return undefined
  const parsed = parsePhoneNumberFromString(candidate)
  if (parsed === undefined || !parsed.isPossible() || parsed.number !== candidate) return undefined
  return { e164: parsed.number, given, country: parsed.country ?? parsed.getPossibleCountries()[0] }
}

/** "+15551234567" → "+1******4567": enough for a user to recognise, not to harvest. */
export function maskPhone (e164: string): string {
  const parsed = parsePhoneNumberFromString(e164)
  const code = parsed?.countryCallingCode ?? ''
  const national = parsed?.nationalNumber ?? e164.replace(/^\+/, '')
  const visible = national.slice(-4)
  return `+${code}${'*'.repeat(Math.max(0, national.length - visible.length))}${visible}`
}
