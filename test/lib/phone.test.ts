import { test } from 'tap'
import { parsePhoneNumberFromString } from 'libphonenumber-js/max'
import { maskPhone, parsePhone, PHONE_VERDICT_CACHE_SIZE, phoneVerdictsCached } from '../../lib/phone.js'

test('E.164 and the 11-digit NANP form normalise to E.164', async (t) => {
  t.same(parsePhone('+15551234567'), { e164: '+15551234567', given: '+15551234567', country: 'US' })
  t.same(parsePhone('15551234567'), { e164: '+15551234567', given: '15551234567', country: 'US' })
  t.same(parsePhone(15551234567), { e164: '+15551234567', given: '15551234567', country: 'US' })
  t.equal(parsePhone('+14155552671')?.country, 'US')
  t.equal(parsePhone('+442071838750')?.country, 'GB')
  t.equal(parsePhone('+4915123456789')?.e164, '+4915123456789')
})

test('anything else is refused', async (t) => {
  const refused: unknown[] = [
    '', '+', '5551234567', '25551234567', '+1555123456', '+155512345678901', '+0123456789',
    '+1 555 123 4567', ' +15551234567', '+15551234567 ', '+1555-123-4567', '+1(555)1234567',
    '+1555123456a', 'abc', '+１５５５１２３４５６７', '+1٥٥٥١٢٣٤٥٦٧', '１5551234567', '+15551234567\n',
    '+1555123', '+999123456789', 1.5, -15551234567, 1e21, null, undefined, [], {}, { $gt: '' }, true
  ]
  for (const input of refused) t.equal(parsePhone(input), undefined, JSON.stringify(input) ?? String(input))
})

test('maskPhone keeps the calling code and the last four digits', async (t) => {
  t.equal(maskPhone('+15551234567'), '+1******4567')
  t.equal(maskPhone('+442071838750'), '+44******8750')
  // As a fresh parse answers, whether or not the number's verdict is remembered.
  const fresh = (e164: string): string => {
    const parsed = parsePhoneNumberFromString(e164)
    const national = parsed?.nationalNumber ?? e164.replace(/^\+/, '')
    return `+${parsed?.countryCallingCode ?? ''}${'*'.repeat(Math.max(0, national.length - 4))}${national.slice(-4)}`
  }
  for (const e164 of ['+15551234567', '+447911123456', '+1555123', '+999123456789', '+33612345678', '+4915123456789', 'not a number', '+12']) {
    t.equal(maskPhone(e164), fresh(e164), e164)
    t.equal(maskPhone(e164), fresh(e164), `${e164} again`)
  }
})

test('remembered verdicts answer as a fresh parse does, and the cache stays bounded', async (t) => {
  const inputs: unknown[] = ['+15551234567', '15551234567', 15551234567, '+442071838750', '+447911123456', '+1555123', '+999123456789', '+33612345678']
  const first = inputs.map((input) => parsePhone(input))
  const again = inputs.map((input) => parsePhone(input))
  t.same(again, first, 'the second answers (from the cache) equal the first')
  t.same(first.map((phone) => phone?.country), ['US', 'US', 'US', 'GB', 'GG', undefined, undefined, 'FR'])
  t.same(JSON.parse(JSON.stringify(parsePhone('+15551234567'))), { e164: '+15551234567', given: '+15551234567', country: 'US' }, 'the region serialises like a plain field')
  t.not(parsePhone('+15551234567'), parsePhone('+15551234567'), 'each caller gets its own object')

  for (let n = 0; n < PHONE_VERDICT_CACHE_SIZE + 100; n++) parsePhone(`+1415${String(n).padStart(7, '0')}`)
  t.equal(phoneVerdictsCached(), PHONE_VERDICT_CACHE_SIZE, 'past the bound the oldest verdicts go')
  t.equal(parsePhone('+15551234567')?.country, 'US', 'an evicted number is parsed again, with the same answer')
  t.equal(parsePhone('+1555123'), undefined, 'an evicted refusal is refused again')
})
