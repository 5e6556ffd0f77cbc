import { test } from 'tap'
import { testConfig } from '../helper.js'
import { VerificationService, effectiveStatus } from '../../lib/verification.js'
import { createMemoryVerifications } from '../../plugins/store/memory/verifications.js'
import { DuplicateKeyError } from '../../lib/store.js'
import type { VerificationRepository } from '../../lib/store.js'
import type { SmsMessage } from '../../lib/sms.js'

/** A service over the memory repository, with hooks that interleave another request at chosen points. */
function setup (overrides: Partial<VerificationRepository> = {}): { service: VerificationService, sent: SmsMessage[], repository: VerificationRepository } {
  const config = testConfig({ SMS_RESEND_COOLDOWN: '0' })
  const repository = { ...createMemoryVerifications(), ...overrides }
  const sent: SmsMessage[] = []
  const service = new VerificationService({
    repository,
    sender: { provider: 'console', send: async (message) => { sent.push(message) } },
    otp: config.otp,
    sms: config.sms,
    issueToken: async (phone, authId) => `token-for-${phone}-${authId}`
  })
  return { service, sent, repository }
}

const codeOf = (message: SmsMessage | undefined): string => message?.body.split('\n')[0] ?? ''

test('a check whose attempt is refused while the record looks pending looks again (the auth_id was replaced)', async (t) => {
  let refuseOnce = true
  const base = createMemoryVerifications()
  const { service, sent } = setup({
    ...base,
    registerAttempt: async (authId, now) => {
      if (refuseOnce) {
        refuseOnce = false
        return null
      }
      return await base.registerAttempt(authId, now)
    }
  })
  await service.start('replaced', '+15551234567')
  const approved = await service.check('replaced', codeOf(sent[0]))
  t.same(approved, { authenticated: true, auth_id: 'replaced', status: 'approved', message: 'Success: Authorization code verified.', token: 'token-for-+15551234567-replaced' })
})

test('a right code replaced by a concurrent resend before approval is InvalidAuthCode, not approved', async (t) => {
  const base = createMemoryVerifications()
  const concurrent: { service?: VerificationService } = {}
  const { service: built, sent } = setup({
    ...base,
    approve: async (...args) => {
      await concurrent.service?.start('resent', '+15551234567')
      return await base.approve(...args)
    }
  })
  concurrent.service = built
  await built.start('resent', '+15551234567')
  await t.rejects(built.check('resent', codeOf(sent[0])), { code: 'invalid_auth_code', extra: { verification_status: 'pending', reason: 'InvalidAuthCode' } })
  t.equal(sent.length, 2)
})

test('start retries when the active record disappears between create and find', async (t) => {
  const base = createMemoryVerifications()
  let duplicateOnce = true
  const { service, sent } = setup({
    ...base,
    create: async (record) => {
      if (duplicateOnce) {
        duplicateOnce = false
        throw new DuplicateKeyError()
      }
      await base.create(record)
    }
  })
  const started = await service.start('vanished', '+15551234567')
  t.equal(started.status, 'pending')
  t.equal(sent.length, 1)
})

test('start gives up with 409 when the auth_id keeps changing; store errors pass through', async (t) => {
  const base = createMemoryVerifications()
  const { service } = setup({ ...base, create: async () => { throw new DuplicateKeyError() }, find: async () => null })
  await t.rejects(service.start('busy', '+15551234567'), { statusCode: 409, code: 'auth_id_in_use' })
  const { service: failing } = setup({ ...base, create: async () => { throw new Error('disk on fire') } })
  await t.rejects(failing.start('x', '+15551234567'), /disk on fire/)
  const { service: unsent } = setup({ ...base, reserveRecipientSend: async () => { throw new Error('store down') } })
  await t.rejects(unsent.start('y', '+15551234567'), /store down/)
  t.equal(await base.find('y', new Date()), null, 'the claim is undone on any failure')
})

test('effectiveStatus derives expiry and exhaustion', async (t) => {
  const now = new Date()
  const record = { id: '1', auth_id: 'a', recipient: '+1', code_hash: 'h', status: 'pending' as const, attempts_left: 1, sends: 1, version: 0, created_at: now, last_sent_at: now, expires_at: new Date(now.getTime() + 1000), purge_at: now }
  t.equal(effectiveStatus(record, now), 'pending')
  t.equal(effectiveStatus({ ...record, expires_at: now }, now), 'expired')
  t.equal(effectiveStatus({ ...record, attempts_left: 0, expires_at: now }, now), 'max_attempts_reached')
  t.equal(effectiveStatus({ ...record, status: 'canceled' }, now), 'canceled')
})
