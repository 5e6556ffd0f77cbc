import { parsePhoneNumberFromString } from 'libphonenumber-js/max'
import { dropOldest } from './capped.js'

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

/** libphonenumber-js's answer for one E.164 candidate: its number, and its region when asked for. */
interface Verdict {
  e164: string
  callingCode: string
  nationalNumber: string
  country: () => string | undefined
}

/**
 * Verdicts remembered per candidate, oldest dropped first past this many. Parsing costs 13 µs for a
 * number whose region is found and about 55 µs for one no region's pattern matches (a fictional
 * +1 555 number tries every NANP region), and one user's flow sends the same number more than once
 * (App Verify tokens and their status look-ups by phone, a resent code). Each entry is a few
 * hundred bytes, so the cache stays under about 2 MB, and it answers exactly as a fresh parse would.
 */
export const PHONE_VERDICT_CACHE_SIZE = 4096
const verdicts = new Map<string, Verdict | null>()

function parseCandidate (candidate: string): Verdict | null {
  const parsed = parsePhoneNumberFromString(candidate)
  if (parsed === undefined || !parsed.isPossible() || parsed.number !== candidate) return null
  // The region is only needed by the SMS country allow-list; the fallback search is the dear part.
  let country: { value: string | undefined } | undefined
  return {
    e164: parsed.number,
    callingCode: parsed.countryCallingCode,
    nationalNumber: parsed.nationalNumber,
    country: () => (country ??= { value: parsed.country ?? parsed.getPossibleCountries()[0] }).value
  }
}

function verdictOf (candidate: string): Verdict | null {
  let verdict = verdicts.get(candidate)
  if (verdict !== undefined) return verdict
  verdict = parseCandidate(candidate)
  verdicts.set(candidate, verdict)
  dropOldest(verdicts, PHONE_VERDICT_CACHE_SIZE)
  return verdict
}

/** How many verdicts are remembered (tests check the bound). */
export function phoneVerdictsCached (): number {
  return verdicts.size
}

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
  const verdict = verdictOf(candidate)
  if (verdict === null) return undefined
  return {
    e164: verdict.e164,
    given,
    get country () { return verdict.country() }
  }
}

/** "+15551234567" → "+1******4567": enough for a user to recognise, not to harvest. */
export function maskPhone (e164: string): string {
  const known = E164.test(e164) ? verdictOf(e164) : null
  const parsed = known === null ? parsePhoneNumberFromString(e164) : undefined
  const code = known?.callingCode ?? parsed?.countryCallingCode ?? ''
  const national = known?.nationalNumber ?? parsed?.nationalNumber ?? e164.replace(/^\+/, '')
  const visible = national.slice(-4)
  return `+${code}${'*'.repeat(Math.max(0, national.length - visible.length))}${visible}`
}
