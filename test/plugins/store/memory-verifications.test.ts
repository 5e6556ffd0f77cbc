import { test } from 'tap'
import { createMemoryVerifications } from '../../../plugins/store/memory/verifications.js'

test('the memory sweep drops purged verifications and send logs whose sends all left the window (MongoDB TTL semantics)', async (t) => {
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
  await repository.reserveRecipientSend('+15551234567', 'old', new Date(now - 7_200_000), 3_600_000, 1)
  await repository.reserveRecipientSend('+15557654321', 'recent', new Date(now - 1000), 3_600_000, 1)
  repository.sweep(now)
  t.equal(await repository.find('old', new Date(now - 10_000)), null, 'gone even for a reader with an earlier clock')
  t.equal((await repository.find('kept', new Date(now)))?.id, '2')
  t.ok((await repository.reserveRecipientSend('+15551234567', 'new', new Date(now), 3_600_000, 1)).reserved, 'a swept log starts over')
  t.notOk((await repository.reserveRecipientSend('+15557654321', 'new', new Date(now), 3_600_000, 1)).reserved, 'a log with recent sends is kept')
})
