import { test } from 'tap'
import { MongoServerError } from 'mongodb'
import type { Db } from 'mongodb'
import { createMongoVerifications } from '../../../plugins/store/mongodb/verifications.js'
import { INDEX_PLANS } from '../../../plugins/store/mongodb/indexes.js'
import { DuplicateKeyError } from '../../../lib/store.js'

interface Call { collection: string, method: string, args: unknown[] }

/**
 * No MongoDB server runs here (mongodb.test.ts runs the full contract when MONGODB_URL is set).
 * This recording Db checks what matters for atomicity without one: every state change reaches
 * the driver as ONE conditional operation whose filter holds the whole precondition.
 */
function recordingDb (answers: Record<string, (...args: unknown[]) => unknown>): { db: Db, calls: Call[] } {
  const calls: Call[] = []
  const db = {
    collection: (name: string) => new Proxy({}, {
      get: (_target, method: string) => async (...args: unknown[]) => {
        calls.push({ collection: name, method, args })
        const answer = answers[`${name}.${method}`] ?? answers[method]
        return answer === undefined ? null : answer(...args)
      }
    })
  } as unknown as Db
  return { db, calls }
}

const now = new Date('2030-01-01T00:00:00Z')
const later = new Date('2030-01-01T00:10:00Z')
const stored = { id: 'v1', auth_id: 'a', recipient: '+15551234567', code_hash: 'h', status: 'pending', attempts_left: 2, sends: 1, version: 0, created_at: now, last_sent_at: now, expires_at: later, purge_at: later, ended_at: null }

test('MongoDB verifications: each operation is one conditional update with the full precondition', async (t) => {
  const { db, calls } = recordingDb({
    findOne: () => ({ ...stored }),
    findOneAndUpdate: () => ({ ...stored }),
    updateOne: () => ({ modifiedCount: 1 }),
    deleteOne: () => ({ deletedCount: 1 }),
    replaceOne: () => ({ upsertedCount: 1 }),
    createIndexes: () => [],
    'sms_recipient_sends.findOneAndUpdate': () => ({ _id: '+15551234567', sends: [{ id: 'old', at: now }, { id: 's1', at: later }], expires_at: later })
  })
  const repository = createMongoVerifications(db)

  t.match(INDEX_PLANS.filter((plan) => plan.collection === 'verifications'), [{ key: { auth_id: 1 }, unique: true }, { key: { purge_at: 1 }, expireAfterSeconds: 0 }])
  t.match(INDEX_PLANS.filter((plan) => plan.collection === 'sms_recipient_sends'), [{ key: { expires_at: 1 }, expireAfterSeconds: 0 }])

  const record = { ...stored, status: 'pending' as const, ended_at: undefined }
  delete record.ended_at
  await repository.create(record)
  t.same(calls[0]?.args[0], { auth_id: 'a', $or: [{ status: { $ne: 'pending' } }, { expires_at: { $lte: now } }] }, 'replaces only an ended verification')
  t.same(calls[0]?.args[2], { upsert: true })

  calls.length = 0
  t.notOk('ended_at' in (await repository.find('a', now) ?? {}), 'null fields come back absent, as from the memory store')
  t.same(calls[0]?.args[0], { auth_id: 'a', purge_at: { $gt: now } })

  calls.length = 0
  await repository.registerAttempt('a', now)
  t.same(calls[0]?.args.slice(0, 3), [
    { auth_id: 'a', status: 'pending', expires_at: { $gt: now }, attempts_left: { $gt: 0 } },
    { $inc: { attempts_left: -1 } },
    { returnDocument: 'after', projection: { _id: 0 } }
  ])

  calls.length = 0
  t.ok(await repository.approve('a', 'v1', 'h', now, later))
  t.same(calls[0]?.args, [
    { auth_id: 'a', id: 'v1', code_hash: 'h', status: 'pending', expires_at: { $gt: now } },
    { $set: { status: 'approved', ended_at: now, purge_at: later }, $inc: { attempts_left: 1 } }
  ])

  calls.length = 0
  const input = { id: 'v1', recipient: '+15551234567', codeHash: 'h2', now, expiresAt: later, purgeAt: later, sentBefore: now, maxSends: 5 }
  t.ok(await repository.resend('a', input))
  t.same(calls[0]?.args.slice(0, 2), [
    { auth_id: 'a', id: 'v1', status: 'pending', expires_at: { $gt: now }, attempts_left: { $gt: 0 }, recipient: '+15551234567', last_sent_at: { $lte: now }, sends: { $lt: 5 } },
    { $set: { code_hash: 'h2', last_sent_at: now, expires_at: later, purge_at: later }, $inc: { sends: 1, version: 1 } }
  ], 'attempts_left is not in the update')

  calls.length = 0
  t.ok(await repository.restoreCode('a', 'v1', 1, { code_hash: 'h', last_sent_at: now, expires_at: later, purge_at: later, sends: 1 }))
  t.same(calls[0]?.args[0], { auth_id: 'a', id: 'v1', version: 1, status: 'pending' })
  t.ok(await repository.remove('a', 'v1'))
  t.same(calls[1]?.args[0], { auth_id: 'a', id: 'v1' })
  t.ok(await repository.cancel('a', now, later))
  t.same(calls[2]?.args[0], { auth_id: 'a', status: 'pending', expires_at: { $gt: now }, attempts_left: { $gt: 0 } })
  t.same(await repository.reserveRecipientSend('+15551234567', 's1', later, 3_600_000, 3), { reserved: true, retryAt: new Date(now.getTime() + 3_600_000) })
  t.same(calls[3]?.args, [
    { _id: '+15551234567' },
    [
      { $set: { sends: { $filter: { input: { $ifNull: ['$sends', []] }, cond: { $gt: ['$$this.at', new Date(later.getTime() - 3_600_000)] } } } } },
      { $set: { sends: { $cond: [{ $lt: [{ $size: '$sends' }, 3] }, { $concatArrays: ['$sends', [{ id: 's1', at: later }]] }, '$sends'] }, expires_at: new Date(later.getTime() + 3_600_000) } }
    ],
    { upsert: true, returnDocument: 'after' }
  ], 'one conditional pipeline update: the limit sits in the update itself')
  t.same((await repository.reserveRecipientSend('+15551234567', 'refused', later, 3_600_000, 3)).reserved, false, 'a send missing from the log was refused')
  await repository.releaseRecipientSend('+15551234567', 's1')
  t.same(calls.at(-1)?.args, [{ _id: '+15551234567' }, { $pull: { sends: { id: 's1' } } }])
})

test('MongoDB verifications: misses, duplicate keys and the upsert race', async (t) => {
  let upserts = 0
  const duplicate = (): never => { throw new MongoServerError({ message: 'E11000 duplicate key', code: 11000 }) }
  const { db } = recordingDb({
    findOne: () => null,
    findOneAndUpdate: () => null,
    updateOne: () => ({ modifiedCount: 0 }),
    deleteOne: () => ({ deletedCount: 0 }),
    replaceOne: duplicate,
    'sms_recipient_sends.findOneAndUpdate': () => {
      upserts++
      if (upserts === 1) duplicate()
      return { _id: '+1', sends: [{ id: 's', at: now }], expires_at: later }
    }
  })
  const repository = createMongoVerifications(db)
  await t.rejects(repository.create({ ...stored, status: 'pending', ended_at: new Date() }), DuplicateKeyError, 'an active auth_id is a DuplicateKeyError')
  t.equal(await repository.find('a', now), null)
  t.equal(await repository.registerAttempt('a', now), null)
  t.equal(await repository.resend('a', { id: 'v1', recipient: '+1', codeHash: 'h', now, expiresAt: later, purgeAt: later, sentBefore: now, maxSends: 5 }), null)
  t.notOk(await repository.approve('a', 'v1', 'h', now, later))
  t.notOk(await repository.restoreCode('a', 'v1', 1, { code_hash: 'h', last_sent_at: now, expires_at: later, purge_at: later, sends: 1 }))
  t.notOk(await repository.remove('a', 'v1'))
  t.notOk(await repository.cancel('a', now, later))
  t.ok((await repository.reserveRecipientSend('+1', 's', now, 3_600_000, 3)).reserved, 'the loser of the first-upsert race reserves on its second try')
  await t.rejects(repository.find({ $ne: null } as unknown as string, now), TypeError, 'operator objects never reach a filter')

  const { db: broken } = recordingDb({ 'sms_recipient_sends.findOneAndUpdate': () => { throw new Error('boom') } })
  await t.rejects(createMongoVerifications(broken).reserveRecipientSend('+1', 's', now, 3_600_000, 3), /boom/)
})
