import type { Test } from 'tap'
import { setTimeout as sleep } from 'node:timers/promises'
import { DuplicateKeyError } from '../../plugins/store/types.js'
import type { Store } from '../../plugins/store/types.js'

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

  await t.test('login attempts: counted per window, restarted after it, cleared', async (t) => {
    const store = await makeStore()
    const key = unique('user')
    t.equal(await store.loginAttempts.get(key), null)
    const first = await store.loginAttempts.fail(key, 60_000)
    t.equal(first.count, 1)
    t.ok(first.resets_at.getTime() > Date.now() + 50_000)
    const second = await store.loginAttempts.fail(key, 60_000)
    t.same(second, { count: 2, resets_at: first.resets_at }, 'the window does not slide')
    t.same(await store.loginAttempts.get(key), second)
    const raced = await Promise.all([1, 2, 3, 4].map(() => store.loginAttempts.fail(`${key}-race`, 60_000)))
    t.same(raced.map((w) => w.count).sort(), [1, 2, 3, 4], 'concurrent failures are all counted')
    await store.loginAttempts.clear(key)
    t.equal(await store.loginAttempts.get(key), null)

    const brief = unique('brief')
    await store.loginAttempts.fail(brief, 5)
    await store.loginAttempts.fail(brief, 5)
    await sleep(20)
    t.equal(await store.loginAttempts.get(brief), null, 'an ended window is gone')
    t.equal((await store.loginAttempts.fail(brief, 60_000)).count, 1, 'and the next failure starts again at 1')
    await t.rejects(store.loginAttempts.get(hostile))
  })
}
