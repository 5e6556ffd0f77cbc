import type { UserRecord, UserRepository } from '../../../lib/store.js'
import { DuplicateKeyError, storeKey } from '../../../lib/store.js'
import { copyRecord } from './copy.js'

export function createMemoryUsers (): UserRepository {
  const users = new Map<string, UserRecord>()
  return {
    async create (user) {
      if (users.has(storeKey(user.username))) throw new DuplicateKeyError('username taken')
      users.set(user.username, copyRecord(user))
    },
    async find (username) {
      const user = users.get(storeKey(username))
      return user === undefined ? null : copyRecord(user)
    },
    async replaceCredentials (username, currentUserId, passwordHash, newUserId) {
      const user = users.get(storeKey(username))
      if (user === undefined || user.user_id !== currentUserId) return false
      users.set(username, Object.assign({}, user, { password_hash: passwordHash, user_id: newUserId }))
      return true
    },
    async delete (username) {
      return users.delete(storeKey(username))
    }
  }
}
