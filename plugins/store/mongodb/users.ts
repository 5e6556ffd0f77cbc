import type { Db } from 'mongodb'
import { guard } from '../mongodb.js'
import type { UserRecord, UserRepository } from '../types.js'
import { storeKey } from '../types.js'

export type MongoUsers = UserRepository & { ensureIndexes (): Promise<void> }

export function createMongoUsers (db: Db): MongoUsers {
  const users = db.collection<UserRecord>('users')
  return {
    async ensureIndexes () {
      await users.createIndex({ username: 1 }, { name: 'username_unique', unique: true })
    },
    async create (user) {
      await guard(() => users.insertOne({ ...user, username: storeKey(user.username) }))
    },
    async find (username) {
      return await guard(() => users.findOne({ username: storeKey(username) }, { projection: { _id: 0 } }))
    },
    async delete (username) {
      const result = await guard(() => users.deleteOne({ username: storeKey(username) }))
      return result.deletedCount === 1
    }
  }
}
