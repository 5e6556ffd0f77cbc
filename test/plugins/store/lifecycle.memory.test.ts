import { test } from 'tap'
import { createMemoryReplayCache } from '../../../plugins/store/memory/dpop-proofs.js'
import { createMemoryLoginAttempts } from '../../../plugins/store/memory/login-attempts.js'
import { createMemoryRevocations } from '../../../plugins/store/memory/revocations.js'

// The memory store sweeps these every minute; a sweep drops only what has expired.
test('sweeps keep live entries and drop expired ones', async (t) => {
  let now = 1_000_000
  const clock = (): number => now
  const revocations = createMemoryRevocations(clock)
  const proofs = createMemoryReplayCache(clock)
  const attempts = createMemoryLoginAttempts(clock)

  await revocations.revoke('short', new Date(now + 1000))
  await revocations.revoke('long', new Date(now + 60_000))
  await proofs.use('short', new Date(now + 1000))
  await proofs.use('long', new Date(now + 60_000))
  await attempts.reserve('short', 5, 1000)
  await attempts.reserve('long', 5, 60_000)

  now += 5000
  revocations.sweep()
  proofs.sweep()
  attempts.sweep()

  t.equal(await revocations.isRevoked('long'), true)
  t.equal(await revocations.isRevoked('short'), false)
  t.equal(await proofs.use('long', new Date(now + 60_000)), false, 'a live proof is still a replay')
  t.equal(await proofs.use('short', new Date(now + 60_000)), true)
  t.match(await attempts.get('long'), { count: 1 })
  t.equal(await attempts.get('short'), null)
  t.equal((await attempts.reserve('short', 5, 1000)).window.count, 1)
})
