import { randomUUID } from 'node:crypto'
import type { Test } from 'tap'
import { DuplicateKeyError } from '../../../lib/store.js'
import type { Store, VerificationRecord } from '../../../lib/store.js'

const MINUTE = 60_000

function record (overrides: Partial<VerificationRecord> = {}): VerificationRecord {
  const now = Date.now()
  return {
    id: randomUUID(),
    auth_id: `auth-${randomUUID()}`,
    recipient: '+15551234567',
    code_hash: 'a'.repeat(64),
    status: 'pending',
    attempts_left: 3,
    sends: 1,
    version: 0,
    created_at: new Date(now),
    last_sent_at: new Date(now),
    expires_at: new Date(now + 10 * MINUTE),
    purge_at: new Date(now + 100 * MINUTE),
    ...overrides
  }
}

/** The verification repository's promises, the same for the memory store and MongoDB. */
export async function verificationsContract (t: Test, makeStore: () => Promise<Store>): Promise<void> {
  await t.test('verifications: create, find, one active verification per auth_id', async (t) => {
    const { verifications } = await makeStore()
    const first = record()
    await verifications.create(first)
    t.same(await verifications.find(first.auth_id, new Date()), first)
    t.equal(await verifications.find('no-such-auth-id', new Date()), null)
    await t.rejects(verifications.create(record({ auth_id: first.auth_id })), DuplicateKeyError, 'active auth_id is taken')
    t.equal((await verifications.find(first.auth_id, new Date()))?.id, first.id, 'the active one is untouched')
  })

  await t.test('verifications: expired pending ones are claimed once, concurrently; spent, ended and live ones never', async (t) => {
    const { verifications } = await makeStore()
    const now = Date.now()
    const expired = record({ expires_at: new Date(now - 1000) })
    const spent = record({ expires_at: new Date(now - 1000), attempts_left: 0 })
    const canceled = record({ expires_at: new Date(now - 1000), status: 'canceled' })
    const live = record()
    for (const each of [expired, spent, canceled, live]) await verifications.create(each)
    const claims = await Promise.all(Array.from({ length: 8 }, () => verifications.claimExpired(new Date(now), 1000)))
    const mine = claims.flat().filter((claim) => [expired, spent, canceled, live].some((each) => each.id === claim.id))
    t.same(mine, [{ auth_id: expired.auth_id, id: expired.id }], 'only the expired pending one, once among 8 sweepers')
    t.same((await verifications.claimExpired(new Date(now + 20 * MINUTE), 1000)).filter((claim) => claim.id === live.id), [{ auth_id: live.auth_id, id: live.id }], 'the live one once it expires')
    t.same((await verifications.claimExpired(new Date(now + 20 * MINUTE), 1000)).filter((claim) => claim.id === live.id || claim.id === expired.id), [], 'never twice')
  })

  await t.test('verifications: an ended verification (approved, canceled, expired) is replaced by a new one', async (t) => {
    const { verifications } = await makeStore()
    const now = new Date()
    for (const ended of [
      record({ status: 'approved', ended_at: now }),
      record({ status: 'canceled', ended_at: now }),
      record({ expires_at: new Date(now.getTime() - 1) })
    ]) {
      await verifications.create(ended)
      const fresh = record({ auth_id: ended.auth_id })
      await verifications.create(fresh)
      t.equal((await verifications.find(ended.auth_id, new Date()))?.id, fresh.id)
    }
    const exhausted = record({ attempts_left: 0 })
    await verifications.create(exhausted)
    await t.rejects(verifications.create(record({ auth_id: exhausted.auth_id })), DuplicateKeyError, 'exhausted but unexpired still holds the auth_id')
  })

  await t.test('verifications: registerAttempt spends attempts atomically, never below zero', async (t) => {
    const { verifications } = await makeStore()
    const active = record({ attempts_left: 3 })
    await verifications.create(active)
    const results = await Promise.all(Array.from({ length: 50 }, () => verifications.registerAttempt(active.auth_id, new Date())))
    const spent = results.filter((r) => r !== null)
    t.equal(spent.length, 3, 'exactly attempts_left attempts are granted')
    t.same(spent.map((r) => r?.attempts_left).sort(), [0, 1, 2], 'each caller sees its own post-image')
    t.equal((await verifications.find(active.auth_id, new Date()))?.attempts_left, 0)
    t.equal(await verifications.registerAttempt('no-such-auth-id', new Date()), null)

    const expired = record({ expires_at: new Date(Date.now() - 1) })
    await verifications.create(expired)
    t.equal(await verifications.registerAttempt(expired.auth_id, new Date()), null, 'no attempt on an expired code')
    t.equal((await verifications.find(expired.auth_id, new Date()))?.attempts_left, 3)
  })

  await t.test('verifications: approve succeeds for exactly one caller and only for the current code', async (t) => {
    const { verifications } = await makeStore()
    const active = record({ attempts_left: 3 })
    await verifications.create(active)
    const now = new Date()
    const purgeAt = new Date(now.getTime() + 100 * MINUTE)
    t.notOk(await verifications.approve(active.auth_id, active.id, 'b'.repeat(64), now, purgeAt), 'another code hash')
    t.notOk(await verifications.approve(active.auth_id, randomUUID(), active.code_hash, now, purgeAt), 'another verification id')
    await verifications.registerAttempt(active.auth_id, now)
    const wins = await Promise.all(Array.from({ length: 20 }, () => verifications.approve(active.auth_id, active.id, active.code_hash, now, purgeAt)))
    t.equal(wins.filter(Boolean).length, 1, 'one approval')
    const approved = await verifications.find(active.auth_id, new Date())
    t.equal(approved?.status, 'approved')
    t.equal(approved?.attempts_left, 3, 'the successful attempt is refunded')
    t.same(approved?.ended_at, now)
    t.same(approved?.purge_at, purgeAt)
    t.equal(await verifications.registerAttempt(active.auth_id, new Date()), null, 'no attempts on an approved verification')

    const exhausted = record({ attempts_left: 0 })
    await verifications.create(exhausted)
    t.ok(await verifications.approve(exhausted.auth_id, exhausted.id, exhausted.code_hash, now, purgeAt),
      'a check that paid for its attempt is approved even if others spent the rest meanwhile')
    const expired = record({ expires_at: new Date(Date.now() - 1) })
    await verifications.create(expired)
    t.notOk(await verifications.approve(expired.auth_id, expired.id, expired.code_hash, new Date(), purgeAt), 'not once expired')
  })

  await t.test('verifications: resend swaps the code under every condition and never touches attempts', async (t) => {
    const { verifications } = await makeStore()
    const sentAt = new Date(Date.now() - MINUTE)
    const active = record({ attempts_left: 2, last_sent_at: sentAt })
    await verifications.create(active)
    const now = new Date()
    const input = {
      id: active.id,
      recipient: active.recipient,
      codeHash: 'c'.repeat(64),
      now,
      expiresAt: new Date(now.getTime() + 10 * MINUTE),
      purgeAt: new Date(now.getTime() + 100 * MINUTE),
      sentBefore: new Date(now.getTime() - 30_000),
      maxSends: 3
    }
    t.equal(await verifications.resend(active.auth_id, { ...input, recipient: '+15557654321' }), null, 'another recipient')
    t.equal(await verifications.resend(active.auth_id, { ...input, id: randomUUID() }), null, 'another verification')
    t.equal(await verifications.resend(active.auth_id, { ...input, sentBefore: new Date(sentAt.getTime() - 1) }), null, 'within the cooldown')
    t.equal(await verifications.resend(active.auth_id, { ...input, maxSends: 1 }), null, 'sends exhausted')
    const resent = await verifications.resend(active.auth_id, input)
    t.match(resent, { code_hash: 'c'.repeat(64), sends: 2, version: 1, attempts_left: 2, last_sent_at: now, expires_at: input.expiresAt })

    t.notOk(await verifications.restoreCode(active.auth_id, active.id, 0, active), 'an outdated version is not restored')
    t.ok(await verifications.restoreCode(active.auth_id, active.id, 1, active))
    t.match(await verifications.find(active.auth_id, new Date()), { code_hash: active.code_hash, sends: 1, version: 2, last_sent_at: sentAt, attempts_left: 2 })

    const exhausted = record({ attempts_left: 0, last_sent_at: sentAt })
    await verifications.create(exhausted)
    t.equal(await verifications.resend(exhausted.auth_id, { ...input, id: exhausted.id }), null, 'no resend once attempts are spent')
  })

  await t.test('verifications: remove, cancel and purge', async (t) => {
    const { verifications } = await makeStore()
    const active = record()
    await verifications.create(active)
    t.notOk(await verifications.remove(active.auth_id, randomUUID()), 'another verification id is not removed')
    t.ok(await verifications.remove(active.auth_id, active.id))
    t.equal(await verifications.find(active.auth_id, new Date()), null)

    const toCancel = record()
    await verifications.create(toCancel)
    const now = new Date()
    t.ok(await verifications.cancel(toCancel.auth_id, now, new Date(now.getTime() + MINUTE)))
    t.match(await verifications.find(toCancel.auth_id, new Date()), { status: 'canceled', ended_at: now })
    t.notOk(await verifications.cancel(toCancel.auth_id, new Date(), new Date()), 'canceled once')
    t.notOk(await verifications.cancel('no-such-auth-id', new Date(), new Date()))
    const exhausted = record({ attempts_left: 0 })
    await verifications.create(exhausted)
    t.notOk(await verifications.cancel(exhausted.auth_id, new Date(), new Date()), 'an exhausted verification keeps its status')

    const purged = record({ status: 'approved', purge_at: new Date(Date.now() - 1) })
    await verifications.create(purged)
    t.equal(await verifications.find(purged.auth_id, new Date()), null, 'past purge_at it is gone')
  })

  await t.test('verifications: per-recipient sends in a sliding window, reserved atomically and given back', async (t) => {
    const { verifications } = await makeStore()
    const recipient = `+1555${String(Date.now()).slice(-7)}`
    const hour = 3_600_000
    const start = new Date()
    const at = (ms: number): Date => new Date(start.getTime() + ms)
    const answers = await Promise.all(Array.from({ length: 20 }, (_, i) => verifications.reserveRecipientSend(recipient, `s${i}`, start, hour, 3)))
    t.equal(answers.filter((answer) => answer.reserved).length, 3, '20 concurrent sends: exactly the limit is reserved')
    t.same(answers.find((answer) => !answer.reserved)?.retryAt, at(hour), 'a refusal says when the oldest send leaves the window')
    t.ok((await verifications.reserveRecipientSend('+15550000000', 'other', start, hour, 3)).reserved, 'per recipient')

    const held = answers.map((answer, i) => answer.reserved ? `s${i}` : undefined).filter((id) => id !== undefined)
    await verifications.releaseRecipientSend(recipient, held[0] as string)
    t.ok((await verifications.reserveRecipientSend(recipient, 'after-release', at(1000), hour, 3)).reserved, 'a released send no longer counts')
    t.notOk((await verifications.reserveRecipientSend(recipient, 'full', at(2000), hour, 3)).reserved)
    t.notOk((await verifications.reserveRecipientSend(recipient, 'still-full', at(hour - 1), hour, 3)).reserved, 'the window is an hour long, not a clock hour')
    t.ok((await verifications.reserveRecipientSend(recipient, 'slid', at(hour), hour, 3)).reserved, 'the oldest sends leave the window one hour after they were sent')
    t.ok((await verifications.reserveRecipientSend(recipient, 'third', at(hour + 2), hour, 3)).reserved, 'both sends of the first instant left')
    t.notOk((await verifications.reserveRecipientSend(recipient, 'again-full', at(hour + 3), hour, 3)).reserved)
    await verifications.releaseRecipientSend(recipient, 'no-such-send')
    await verifications.releaseRecipientSend('+15559999999', 'never-sent')
  })

  await t.test('verifications: keys that are not strings never reach a query', async (t) => {
    const { verifications } = await makeStore()
    const hostile = { $ne: null } as unknown as string
    await t.rejects(verifications.find(hostile, new Date()))
    await t.rejects(verifications.registerAttempt(hostile, new Date()))
    await t.rejects(verifications.cancel(hostile, new Date(), new Date()))
    await t.rejects(verifications.create(record({ auth_id: hostile })))
  })
}
