/**
 * Fixed-window counters per key held in this process, bounded in size: the per-address flood
 * guard in front of everything. Local on purpose: it must keep working when Redis does not.
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
      if (window === undefined && this.#windows.size >= this.maxKeys) this.#evict(now)
      window = { count: 0, resetsAt: now + this.windowMs }
      this.#windows.set(key, window)
    }
    window.count++
    return window.count > this.max ? Math.max(1, Math.ceil((window.resetsAt - now) / 1000)) : undefined
  }

  /** Drops expired windows, and the oldest ones if that is not enough: a memory bound, not a correctness one. */
  #evict (now: number): void {
    for (const [key, window] of this.#windows) if (window.resetsAt <= now) this.#windows.delete(key)
    for (const key of this.#windows.keys()) {
      if (this.#windows.size < this.maxKeys) break
      this.#windows.delete(key)
    }
  }
}
