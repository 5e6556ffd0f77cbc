import { dropOldest } from './capped.js'

/**
 * Fixed-window counters per key held in this process, bounded in size: the per-address flood
 * guard in front of everything. Local on purpose: it must keep working when Redis does not.
 * Past maxKeys the windows that ended go first, then the oldest live ones: a memory bound, not a
 * correctness one (an address dropped early starts a new window).
 */
export class FloodGuard {
  readonly #windows = new Map<string, { count: number, resetsAt: number }>()

  constructor (
    private readonly max: number,
    private readonly windowMs: number,
    private readonly maxKeys = 100_000,
    private readonly now: () => number = Date.now
  ) {}

  /** Counts one request; the seconds until the window resets when it is over the limit, else undefined. */
  hit (key: string): number | undefined {
    const now = this.now()
    let window = this.#windows.get(key)
    if (window === undefined || window.resetsAt <= now) {
      // A new window goes to the end: every window lasts windowMs, so the Map stays in the order
      // windows end, and the ones dropped at the cap are the expired ones first, then the oldest.
      this.#windows.delete(key)
      window = { count: 0, resetsAt: now + this.windowMs }
      this.#windows.set(key, window)
      // Amortised O(1) even when every window is live (a flood from more addresses than maxKeys);
      // scanning for expired windows at the cap cost about 750 µs a new address at 100,000.
      dropOldest(this.#windows, this.maxKeys)
    }
    window.count++
    return window.count > this.max ? Math.max(1, Math.ceil((window.resetsAt - now) / 1000)) : undefined
  }
}
