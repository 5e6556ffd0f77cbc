import type { Test } from 'tap'
import { setTimeout as sleep } from 'node:timers/promises'
import { DuplicateKeyError } from '../../../lib/store.js'
import type { Store } from '../../../lib/store.js'

const unique = (prefix: string): string => `${prefix}-${Date.now()}-${Math.random().toString(36).slice(2)}`
const hostile = { $ne: null } as unknown as string

/** Users, revocations, the DPoP replay cache and login attempts: the same behaviour in every store. */
export async function lifecycleContract (t: Test, makeStore: () => Promise<Store>): Promise<void> {
  await t.test('users: create, find, unique username, delete', async (t) => {
    const store = await makeStore()
    const user = { username: unique('alice'), user_id: unique('id'), password_hash: '$scrypt$ln=15,r=8,p=1$salt$hash', created_at: new Date(Date.now() - 1000) }
    await store.users.create(user)
    t.same(await store.users.find(user.username), user)
    await t.rejects(store.users.create({ ...user, user_id: 'other' }), DuplicateKeyError)
    t.equal(await store.users.delete(user.username), true)
    t.equal(await store.users.find(user.username), null)
    t.equal(await store.users.delete(user.username), false)
    await store.users.create({ ...user, user_id: 'second' })
    t.equal((await store.users.find(user.username))?.user_id, 'second', 'a re-created user has its new id')
    await t.rejects(store.users.find(hostile))
    await t.rejects(store.users.delete(hostile))
  })

  await t.test('users: credentials are replaced only while the user still has the expected id', async (t) => {
    const store = await makeStore()
    const user = { username: unique('bob'), user_id: unique('id'), password_hash: 'old-hash', created_at: new Date(Date.now() - 1000) }
    await store.users.create(user)
    t.equal(await store.users.replaceCredentials(user.username, 'not-the-id', 'x', 'y'), false, 'a stale id changes nothing')
    t.equal(await store.users.replaceCredentials(user.username, user.user_id, 'new-hash', 'new-id'), true)
    t.match(await store.users.find(user.username), { password_hash: 'new-hash', user_id: 'new-id', created_at: user.created_at })
    t.equal(await store.users.replaceCredentials(user.username, user.user_id, 'again', 'again'), false, 'the old id is gone')
    const racing = await Promise.all(Array.from({ length: 10 }, (_, i) => store.users.replaceCredentials(user.username, 'new-id', `h${i}`, `id${i}`)))
    t.equal(racing.filter(Boolean).length, 1, 'of concurrent changes exactly one wins')
    t.equal(await store.users.replaceCredentials(unique('nobody'), 'a', 'b', 'c'), false)
    await t.rejects(store.users.replaceCredentials(hostile, 'a', 'b', 'c'))
  })

  await t.test('webhook deliveries: queued once, claimed once under concurrency, leased, settled, listed newest first', async (t) => {
    const store = await makeStore()
    const now = Date.now()
    const prefix = unique('evt')
    const record = (n: number, type = 'verification.approved'): Parameters<typeof store.webhookDeliveries.enqueue>[0][number] => ({
      id: `${prefix}-${n}:hook`,
      event_id: `${prefix}-${n}`,
      event_type: type,
      endpoint_id: 'hook',
      payload: `{"n":${n}}`,
      status: 'pending',
      attempts: 0,
      next_attempt_at: new Date(now - 1000),
      created_at: new Date(now - 10_000 + n),
      purge_at: new Date(now + 3_600_000)
    })
    await store.webhookDeliveries.enqueue([record(1), record(2), record(3, 'token.revoked')])
    await store.webhookDeliveries.enqueue([{ ...record(1), payload: 'changed' }])
    const claims = await Promise.all(Array.from({ length: 10 }, () => store.webhookDeliveries.claimDue(new Date(now), 30_000, 2)))
    const claimedIds = claims.flat().map((claimed) => claimed.id).filter((id) => id.startsWith(prefix))
    t.same(claimedIds.sort(), [`${prefix}-1:hook`, `${prefix}-2:hook`, `${prefix}-3:hook`], 'each delivery claimed exactly once by 10 concurrent workers')
    t.equal(claims.flat().find((claimed) => claimed.id === `${prefix}-1:hook`)?.payload, '{"n":1}', 'queued once: the second enqueue changed nothing')
    t.same((await store.webhookDeliveries.claimDue(new Date(now + 1000), 30_000, 10)).filter((claimed) => claimed.id.startsWith(prefix)), [], 'leased: nobody else takes them')
    await store.webhookDeliveries.settle(`${prefix}-1:hook`, { delivered: false, result: '500', at: new Date(now), retryAt: new Date(now + 5000), purgeAt: new Date(now + 3_600_000) })
    await store.webhookDeliveries.settle(`${prefix}-2:hook`, { delivered: true, result: '204', at: new Date(now), retryAt: null, purgeAt: new Date(now + 3_600_000) })
    await store.webhookDeliveries.settle(`${prefix}-3:hook`, { delivered: false, result: 'timeout', at: new Date(now), retryAt: null, purgeAt: new Date(now + 3_600_000) })
    const again = (await store.webhookDeliveries.claimDue(new Date(now + 6000), 30_000, 10)).filter((claimed) => claimed.id.startsWith(prefix))
    t.match(again, [{ id: `${prefix}-1:hook`, attempts: 1, last_result: '500' }], 'only the retry comes back, when due')
    const log = (await store.webhookDeliveries.list({ limit: 100 })).filter((entry) => entry.id.startsWith(prefix))
    t.same(log.map((entry) => entry.event_id), [`${prefix}-3`, `${prefix}-2`, `${prefix}-1`], 'newest first')
    t.match(log, [{ status: 'failed', last_result: 'timeout' }, { status: 'delivered', delivered_at: Date }, { status: 'pending' }])
    t.same((await store.webhookDeliveries.list({ status: 'delivered', limit: 100 })).filter((entry) => entry.id.startsWith(prefix)).map((entry) => entry.event_id), [`${prefix}-2`])
    t.same((await store.webhookDeliveries.list({ eventType: 'token.revoked', limit: 100 })).filter((entry) => entry.id.startsWith(prefix)).map((entry) => entry.event_id), [`${prefix}-3`])
  })

  await t.test('refresh tokens: spent once, atomically; a second use is reuse until the family ends; idle expiry', async (t) => {
    const store = await makeStore()
    const now = Date.now()
    const record = {
      hash: unique('hash'),
      family_id: unique('family'),
      client_id: 'backend',
      sub: 'instance:d1',
      instance_id: 'd1',
      issued_at: new Date(now - 1000),
      expires_at: new Date(now + 60_000),
      family_expires_at: new Date(now + 3_600_000)
    }
    await store.refreshTokens.create(record)
    await t.rejects(store.refreshTokens.create(record), DuplicateKeyError)
    t.same(await store.refreshTokens.find(record.hash, new Date(now)), record)
    const uses = await Promise.all(Array.from({ length: 20 }, () => store.refreshTokens.use(record.hash, new Date(now))))
    t.equal(uses.filter((use) => use.outcome === 'fresh').length, 1, 'exactly one of 20 concurrent uses')
    t.equal(uses.filter((use) => use.outcome === 'reused').length, 19, 'the rest are reuse')
    t.match(uses.find((use) => use.outcome === 'reused'), { record: { family_id: record.family_id, used_at: Date } })
    t.match(await store.refreshTokens.use(record.hash, new Date(now + 120_000)), { outcome: 'reused' }, 'reuse is recognised past the idle limit, while the family lasts')
    t.same(await store.refreshTokens.use(record.hash, new Date(now + 3_600_000)), { outcome: 'unknown' }, 'forgotten once the family ends')

    const idle = { ...record, hash: unique('idle'), expires_at: new Date(now + 10) }
    await store.refreshTokens.create(idle)
    t.same(await store.refreshTokens.use(idle.hash, new Date(now + 20)), { outcome: 'unknown' }, 'idle past its limit: unusable')
    t.same(await store.refreshTokens.use(unique('absent'), new Date(now)), { outcome: 'unknown' })
    t.equal(await store.refreshTokens.find(unique('absent'), new Date(now)), null)
    await t.rejects(store.refreshTokens.use(hostile, new Date(now)))
  })

  await t.test('revocations: idempotent, kept until expiry', async (t) => {
    const store = await makeStore()
    const jti = unique('jti')
    t.equal(await store.revocations.isRevoked(jti), false)
    await store.revocations.revoke(jti, new Date(Date.now() + 60_000))
    await store.revocations.revoke(jti, new Date(Date.now() + 60_000))
    t.equal(await store.revocations.isRevoked(jti), true)
    await Promise.all([1, 2, 3].map(() => store.revocations.revoke(`${jti}-race`, new Date(Date.now() + 60_000))))
    t.equal(await store.revocations.isRevoked(`${jti}-race`), true, 'concurrent revocations all succeed')
    const past = unique('expired')
    await store.revocations.revoke(past, new Date(Date.now() - 1))
    t.equal(await store.revocations.isRevoked(past), false, 'an expired revocation no longer matters')
    t.equal(await store.revocations.isRevoked(past, jti), true, 'any of several keys')
    t.equal(await store.revocations.isRevoked(past, `${jti}-never`), false)
    await t.rejects(store.revocations.isRevoked(hostile))
  })

  await t.test('replay cache: first use only, until expiry; concurrent uses admit exactly one', async (t) => {
    const store = await makeStore()
    const key = unique('proof')
    t.equal(await store.dpopProofs.use(key, new Date(Date.now() + 60_000)), true)
    t.equal(await store.dpopProofs.use(key, new Date(Date.now() + 60_000)), false)
    const raced = unique('raced')
    const results = await Promise.all([1, 2, 3, 4, 5].map(() => store.dpopProofs.use(raced, new Date(Date.now() + 60_000))))
    t.equal(results.filter(Boolean).length, 1)
    const short = unique('short')
    t.equal(await store.dpopProofs.use(short, new Date(Date.now() - 1)), true)
    t.equal(await store.dpopProofs.use(short, new Date(Date.now() + 60_000)), true, 'an expired entry does not block')
    t.equal(await store.dpopProofs.use(short, new Date(Date.now() + 60_000)), false)
    await t.rejects(store.dpopProofs.use(hostile, new Date()))
  })

  await t.test('login attempts: reserved up to the limit per window, atomically; released; restarted; cleared', async (t) => {
    const store = await makeStore()
    const key = unique('user')
    t.equal(await store.loginAttempts.get(key), null)
    const first = await store.loginAttempts.reserve(key, 3, 60_000)
    t.equal(first.reserved, true)
    t.equal(first.window.count, 1)
    t.ok(first.window.resets_at.getTime() > Date.now() + 50_000)
    const second = await store.loginAttempts.reserve(key, 3, 60_000)
    t.same(second, { reserved: true, window: { count: 2, resets_at: first.window.resets_at } }, 'the window does not slide')
    t.same(await store.loginAttempts.get(key), second.window)
    await store.loginAttempts.release(key)
    t.equal((await store.loginAttempts.get(key))?.count, 1, 'a release gives one back')

    const raced = await Promise.all(Array.from({ length: 40 }, () => store.loginAttempts.reserve(`${key}-race`, 5, 60_000)))
    t.equal(raced.filter((r) => r.reserved).length, 5, '40 concurrent reservations: exactly 5 are counted')
    t.same(raced.filter((r) => r.reserved).map((r) => r.window.count).sort(), [1, 2, 3, 4, 5])
    t.ok(raced.filter((r) => !r.reserved).every((r) => r.window.count === 5), 'the refused ones see the full window')
    t.equal((await store.loginAttempts.get(`${key}-race`))?.count, 5, 'nothing counted beyond the limit')
    await store.loginAttempts.release(`${key}-race`)
    t.equal((await store.loginAttempts.reserve(`${key}-race`, 5, 60_000)).reserved, true, 'a released slot can be reserved again')

    await store.loginAttempts.clear(key)
    t.equal(await store.loginAttempts.get(key), null)
    await store.loginAttempts.release(key)
    t.equal(await store.loginAttempts.get(key), null, 'releasing a cleared key changes nothing')

    const brief = unique('brief')
    await store.loginAttempts.reserve(brief, 2, 5)
    await store.loginAttempts.reserve(brief, 2, 5)
    await sleep(20)
    t.equal(await store.loginAttempts.get(brief), null, 'an ended window is gone')
    t.same((await store.loginAttempts.reserve(brief, 2, 60_000)).window.count, 1, 'and the next attempt starts again at 1, even after a full window')
    await t.rejects(store.loginAttempts.get(hostile))
    await t.rejects(store.loginAttempts.reserve(hostile, 5, 60_000))
  })
}
