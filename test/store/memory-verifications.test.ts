import { test } from 'tap'
import { createMemoryVerifications } from '../../plugins/store/memory/verifications.js'

test('the memory sweep drops purged verifications and finished send counters (MongoDB TTL semantics)', async (t) => {
  const repository = createMemoryVerifications()
  const now = Date.now()
  const base = {
    recipient: '+15551234567',
    code_hash: 'a'.repeat(64),
    status: 'approved' as const,
    attempts_left: 3,
    sends: 1,
    version: 0,
    created_at: new Date(now - 10_000),
    last_sent_at: new Date(now - 10_000),
    expires_at: new Date(now - 5_000)
  }
  await repository.create({ ...base, id: '1', auth_id: 'old', purge_at: new Date(now - 1) })
  await repository.create({ ...base, id: '2', auth_id: 'kept', purge_at: new Date(now + 60_000) })
  await repository.countRecipientSend('+15551234567', new Date(now - 7_200_000), new Date(now - 3_600_000))
  await repository.countRecipientSend('+15551234567', new Date(now), new Date(now + 3_600_000))
  repository.sweep(now)
  t.equal(await repository.find('old', new Date(now - 10_000)), null, 'gone even for a reader with an earlier clock')
  t.equal((await repository.find('kept', new Date(now)))?.id, '2')
  t.equal(await repository.countRecipientSend('+15551234567', new Date(now - 7_200_000), new Date(now - 3_600_000)), 1, 'the finished window starts over')
  t.equal(await repository.countRecipientSend('+15551234567', new Date(now), new Date(now + 3_600_000)), 2, 'the current window is kept')
})
