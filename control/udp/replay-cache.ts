/** @module A per-device, time-ordered cache of authenticated keepalive transaction ids, refusing replays inside the window. */

/** Transaction ids one device may have live at once: a keepalive every few seconds over the window needs < 100. */
export const DEFAULT_MAX_PER_DEVICE = 1024;

/**
 * Remembers keys per owner (the device whose MAC verified) until they expire. Entries are only added after a
 * message authenticated, so unauthenticated floods cannot grow it; and each device has its own bound, so one
 * device flooding from many addresses fills only its own share and never refuses another device's keepalives
 * (issue 21 item 8). One Map holds every entry under "owner NUL key": keys arrive in clock order with equal
 * lifetimes, so the Map iterates in expiry order and each sweep stops at the first live entry. A count per
 * owner keeps the bound. (It was a Map per owner: 100,000 Maps for 100,000 devices, and a sweep of them all.)
 */
export class ReplayCache {
  readonly #entries = new Map<string, number>();
  readonly #counts = new Map<string, number>();
  readonly #ttlMs: number;
  readonly #maxPerOwner: number;

  constructor(ttlMs: number, maxPerOwner = DEFAULT_MAX_PER_DEVICE) {
    this.#ttlMs = ttlMs;
    this.#maxPerOwner = maxPerOwner;
  }

  /** Live and not yet swept entries over all owners. */
  get size(): number {
    return this.#entries.size;
  }

  /** Owners with entries held. */
  get owners(): number {
    return this.#counts.size;
  }

  /**
   * True if key is new for owner (and records it); false if it was seen within the lifetime, or if the owner's
   * share is full of live entries: failing closed there means an unrecorded key can never be replayed.
   */
  admit(owner: string, key: string, now: number): boolean {
    this.#sweep(now);
    const entry = `${owner}\u0000${key}`;
    if (this.#entries.has(entry)) return false;
    const count = this.#counts.get(owner) ?? 0;
    if (count >= this.#maxPerOwner) return false;
    this.#entries.set(entry, now + this.#ttlMs);
    this.#counts.set(owner, count + 1);
    return true;
  }

  /**
   * Takes back an admitted key: for a request that was not acted on and will be handled again (a session
   * binding whose session the store is still loading), which must not then count as its own replay.
   */
  forget(owner: string, key: string): void {
    if (this.#entries.delete(`${owner}\u0000${key}`)) this.#uncount(owner);
  }

  #sweep(now: number): void {
    for (const [entry, expires] of this.#entries) {
      if (expires > now) break;
      this.#entries.delete(entry);
      this.#uncount(entry.slice(0, entry.indexOf("\u0000")));
    }
  }

  #uncount(owner: string): void {
    const n = (this.#counts.get(owner) ?? 1) - 1;
    if (n > 0) this.#counts.set(owner, n);
    else this.#counts.delete(owner);
  }
}
