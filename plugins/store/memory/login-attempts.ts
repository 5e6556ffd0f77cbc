import type { AttemptWindow, LoginAttemptRepository } from '../../../lib/store.js'
import { storeKey } from '../../../lib/store.js'
import { copyRecord } from './copy.js'

export type MemoryLoginAttempts = LoginAttemptRepository & { sweep (): void }

export function createMemoryLoginAttempts (now: () => number): MemoryLoginAttempts {
  const windows = new Map<string, AttemptWindow>()
  const running = (key: string): AttemptWindow | undefined => {
    const window = windows.get(storeKey(key))
    return window !== undefined && window.resets_at.getTime() > now() ? window : undefined
  }
  return {
    async reserve (key, max, windowMs) {
      const current = running(key)
      if (current !== undefined && current.count >= max) return { reserved: false, window: copyRecord(current) }
      const next = current === undefined
        ? { count: 1, resets_at: new Date(now() + windowMs) }
        : { count: current.count + 1, resets_at: current.resets_at }
      windows.set(key, next)
      return { reserved: true, window: copyRecord(next) }
    },
    async release (key) {
      const current = running(key)
      if (current !== undefined && current.count > 0) current.count -= 1
    },
    async get (key) {
      const current = running(key)
      return current === undefined ? null : copyRecord(current)
    },
    async clear (key) {
      windows.delete(storeKey(key))
    },
    sweep () {
      const time = now()
      for (const [key, window] of windows) if (window.resets_at.getTime() <= time) windows.delete(key)
    }
  }
}
