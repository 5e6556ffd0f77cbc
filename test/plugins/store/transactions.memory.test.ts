import { test } from 'tap'
import { createMemoryStore } from '../../../plugins/store/memory.js'
import { TRANSACTION_RETENTION_MS } from '../../../lib/store.js'

test('memory transactions follow the injected clock and sweep records past retention', async (t) => {
  let now = Date.now()
  const store = createMemoryStore(() => now)
  t.teardown(() => store.close())
  const record = {
    xid: 'clock-1',
    phone_number: '+15551234567',
    token_sha256: 'b'.repeat(64),
    issued_at: new Date(now),
    expires_at: new Date(now + 90_000),
    issued_to: 'public'
  }
  await store.transactions.record(record)
  t.same(await store.transactions.find('clock-1'), record)

  now += 90_000 + TRANSACTION_RETENTION_MS - 1
  t.same(await store.transactions.find('clock-1'), record, 'kept until retention ends')
  now += 1
  t.equal(await store.transactions.find('clock-1'), null, 'gone once retention ends')
  t.same((await store.transactions.listByPhone('+15551234567', { limit: 5 })).items, [])

  // The next write sweeps; the xid is free again.
  await store.transactions.record({ ...record, xid: 'clock-2', issued_at: new Date(now), expires_at: new Date(now + 90_000) })
  await store.transactions.record({ ...record, issued_at: new Date(now), expires_at: new Date(now + 90_000) })
  t.same((await store.transactions.listByPhone('+15551234567', { limit: 5 })).items.map((r) => r.xid), ['clock-2', 'clock-1'])
})
