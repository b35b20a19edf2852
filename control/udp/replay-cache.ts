/** @module A bounded, time-ordered cache of authenticated keepalive transaction ids, refusing replays inside the window. */

/**
 * Remembers keys until they expire. Entries are only added after a message authenticated, so a flood of
 * unauthenticated datagrams cannot grow it. Keys are inserted in clock order with equal lifetimes, so Map
 * iteration order is expiry order and sweeping stops at the first live entry.
 */
export class ReplayCache {
  readonly #expiry = new Map<string, number>();
  readonly #ttlMs: number;
  readonly #maxEntries: number;

  constructor(ttlMs: number, maxEntries = 1_000_000) {
    this.#ttlMs = ttlMs;
    this.#maxEntries = maxEntries;
  }

  get size(): number {
    return this.#expiry.size;
  }

  /**
   * True if key is new (and records it); false if it was seen within the lifetime, or if the cache is full of
   * live entries: failing closed there means an unrecorded key can never be replayed.
   */
  admit(key: string, now: number): boolean {
    for (const [k, expires] of this.#expiry) {
      if (expires > now) break;
      this.#expiry.delete(k);
    }
    if (this.#expiry.has(key)) return false;
    if (this.#expiry.size >= this.#maxEntries) return false;
    this.#expiry.set(key, now + this.#ttlMs);
    return true;
  }
}
