/** @module A per-device, time-ordered cache of authenticated keepalive transaction ids, refusing replays inside the window. */

/** Transaction ids one device may have live at once: a keepalive every few seconds over the window needs < 100. */
export const DEFAULT_MAX_PER_DEVICE = 1024;

/** One device's live keys, oldest first, beside the time each expires. */
interface OwnerKeys {
  readonly keys: string[];
  readonly expires: number[];
}

/**
 * Remembers keys per owner (the device whose MAC verified) until they expire. Entries are only added after a
 * message authenticated, so unauthenticated floods cannot grow it; and each device has its own bound, so one
 * device flooding from many addresses fills only its own share and never refuses another device's keepalives
 * (issue 21 item 8).
 *
 * Each owner's keys are a short list (a keepalive every ~25 s over a two-minute lifetime is about five), read by
 * one Map lookup of the owner and a scan. One queue of (owner, expiry) in admission order drives the sweep: keys
 * arrive in clock order with equal lifetimes, so the sweep stops at the first live entry, and an owner whose
 * keys have all expired is dropped. (It was one Map of "owner NUL key" strings beside a count per owner: building
 * and hashing that fresh string and four lookups in Maps of several hundred thousand entries cost more than
 * verifying the keepalive's MAC, docs/benchmarks.md "Control node".)
 */
export class ReplayCache {
  readonly #owners = new Map<string, OwnerKeys>();
  /** [owner, record, expiry] triples in admission order, from #head on. */
  readonly #queue: Array<string | OwnerKeys | number> = [];
  #head = 0;
  #size = 0;
  readonly #ttlMs: number;
  readonly #maxPerOwner: number;

  constructor(ttlMs: number, maxPerOwner = DEFAULT_MAX_PER_DEVICE) {
    this.#ttlMs = ttlMs;
    this.#maxPerOwner = maxPerOwner;
  }

  /** Live and not yet swept entries over all owners. */
  get size(): number {
    return this.#size;
  }

  /** Owners with entries held. */
  get owners(): number {
    return this.#owners.size;
  }

  /**
   * True if key is new for owner (and records it); false if it was seen within the lifetime, or if the owner's
   * share is full of live entries: failing closed there means an unrecorded key can never be replayed.
   */
  admit(owner: string, key: string, now: number): boolean {
    this.#sweep(now);
    let rec = this.#owners.get(owner);
    if (rec === undefined) {
      rec = { keys: [], expires: [] };
      this.#owners.set(owner, rec);
    } else {
      this.#trim(rec, now);
      const keys = rec.keys;
      for (let i = 0; i < keys.length; i++) if (keys[i] === key) return false;
      if (keys.length >= this.#maxPerOwner) return false;
    }
    const expires = now + this.#ttlMs;
    rec.keys.push(key);
    rec.expires.push(expires);
    this.#size++;
    this.#queue.push(owner, rec, expires);
    return true;
  }

  /**
   * Takes back an admitted key: for a request that was not acted on and will be handled again (a session
   * binding whose session the store is still loading), which must not then count as its own replay.
   */
  forget(owner: string, key: string): void {
    const rec = this.#owners.get(owner);
    if (rec === undefined) return;
    const i = rec.keys.indexOf(key);
    if (i < 0) return;
    rec.keys.splice(i, 1);
    rec.expires.splice(i, 1);
    this.#size--;
    if (rec.keys.length === 0) this.#owners.delete(owner);
  }

  /** Drops the owner's expired keys (its oldest, at the front). */
  #trim(rec: OwnerKeys, now: number): void {
    const expires = rec.expires;
    let n = 0;
    while (n < expires.length && expires[n]! <= now) n++;
    if (n === 0) return;
    rec.keys.splice(0, n);
    expires.splice(0, n);
    this.#size -= n;
  }

  #sweep(now: number): void {
    const q = this.#queue;
    let head = this.#head;
    while (head < q.length && (q[head + 2] as number) <= now) {
      const owner = q[head] as string;
      const rec = q[head + 1] as OwnerKeys;
      head += 3;
      this.#trim(rec, now);
      // The record may be gone already (forgotten, then admitted anew): only the current one is dropped.
      if (rec.keys.length === 0 && this.#owners.get(owner) === rec) this.#owners.delete(owner);
    }
    if (head === q.length) {
      q.length = 0;
      head = 0;
    } else if (head > 3 * 4096 && head * 2 > q.length) {
      q.splice(0, head); // compacted once the swept part is the larger half: amortised O(1) per entry
      head = 0;
    }
    this.#head = head;
  }
}
