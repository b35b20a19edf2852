/** @module A per-device, time-ordered cache of authenticated keepalive transaction ids, refusing replays inside the window. */

/** Transaction ids one device may have live at once: a keepalive every few seconds over the window needs < 100. */
export const DEFAULT_MAX_PER_DEVICE = 1024;

/**
 * Remembers keys per owner (the device whose MAC verified) until they expire. Entries are only added after a
 * message authenticated, so unauthenticated floods cannot grow it; and each device has its own bound, so one
 * device flooding from many addresses fills only its own share and never refuses another device's keepalives
 * (issue 21 item 8). Keys are inserted in clock order with equal lifetimes, so each owner's Map iterates in
 * expiry order and sweeping stops at the first live entry; owners gone quiet are swept once per lifetime.
 */
export class ReplayCache {
  readonly #byOwner = new Map<string, Map<string, number>>();
  readonly #ttlMs: number;
  readonly #maxPerOwner: number;
  #lastFullSweep = Number.NEGATIVE_INFINITY;

  constructor(ttlMs: number, maxPerOwner = DEFAULT_MAX_PER_DEVICE) {
    this.#ttlMs = ttlMs;
    this.#maxPerOwner = maxPerOwner;
  }

  /** Live and not yet swept entries over all owners. */
  get size(): number {
    let n = 0;
    for (const m of this.#byOwner.values()) n += m.size;
    return n;
  }

  /** Owners with entries held. */
  get owners(): number {
    return this.#byOwner.size;
  }

  /**
   * True if key is new for owner (and records it); false if it was seen within the lifetime, or if the owner's
   * share is full of live entries: failing closed there means an unrecorded key can never be replayed.
   */
  admit(owner: string, key: string, now: number): boolean {
    if (now - this.#lastFullSweep >= this.#ttlMs) this.#sweepAll(now);
    let m = this.#byOwner.get(owner);
    if (m) ReplayCache.#sweep(m, now);
    else {
      m = new Map();
      this.#byOwner.set(owner, m);
    }
    if (m.has(key)) return false;
    if (m.size >= this.#maxPerOwner) return false;
    m.set(key, now + this.#ttlMs);
    return true;
  }

  /**
   * Takes back an admitted key: for a request that was not acted on and will be handled again (a session
   * binding whose session the store is still loading), which must not then count as its own replay.
   */
  forget(owner: string, key: string): void {
    this.#byOwner.get(owner)?.delete(key);
  }

  #sweepAll(now: number): void {
    this.#lastFullSweep = now;
    for (const [owner, m] of this.#byOwner) {
      ReplayCache.#sweep(m, now);
      if (m.size === 0) this.#byOwner.delete(owner);
    }
  }

  static #sweep(m: Map<string, number>, now: number): void {
    for (const [k, expires] of m) {
      if (expires > now) break;
      m.delete(k);
    }
  }
}
