import { storeKey } from '../../../lib/store.js'

/**
 * Keys that live until a deadline: the memory twin of a unique index plus a TTL index
 * (plugins/store/mongodb/expiring-keys.ts). An expired key counts as absent before it is swept.
 */
export class ExpiringKeys {
  readonly #deadlines = new Map<string, number>()

  constructor (private readonly now: () => number) {}

  /** Adds the key unless it is live; false when it was (a replay, a second revocation). */
  add (key: string, expiresAt: Date): boolean {
    if (this.isLive(key)) return false
    this.#deadlines.set(key, expiresAt.getTime())
    return true
  }

  isLive (key: string): boolean {
    const deadline = this.#deadlines.get(storeKey(key))
    return deadline !== undefined && deadline > this.now()
  }

  sweep (): void {
    const time = this.now()
    for (const [key, deadline] of this.#deadlines) if (deadline <= time) this.#deadlines.delete(key)
  }
}
