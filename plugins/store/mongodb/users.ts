import type { Db } from 'mongodb'
import { guard } from './guard.js'
import type { UserRecord, UserRepository } from '../../../lib/store.js'
import { storeKey } from '../../../lib/store.js'

export function createMongoUsers (db: Db): UserRepository {
  const users = db.collection<UserRecord>('users')
  return {
    async create (user) {
      await guard(() => users.insertOne({ ...user, username: storeKey(user.username) }))
    },
    async find (username) {
      return await guard(() => users.findOne({ username: storeKey(username) }, { projection: { _id: 0 } }))
    },
    async replaceCredentials (username, currentUserId, passwordHash, newUserId) {
      const result = await guard(() => users.updateOne(
        { username: storeKey(username), user_id: storeKey(currentUserId) },
        { $set: { password_hash: passwordHash, user_id: newUserId } }
      ))
      return result.modifiedCount === 1
    },
    async delete (username) {
      const result = await guard(() => users.deleteOne({ username: storeKey(username) }))
      return result.deletedCount === 1
    }
  }
}
