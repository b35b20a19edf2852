/** @module Per-key token buckets: each device may burst, then sustain a steady request rate. */

interface Bucket {
  tokens: number;
  at: number;
}

export class RateLimiter {
  readonly #buckets = new Map<string, Bucket>();

  readonly #perSec: number;
  readonly #burst: number;
  constructor(perSec: number, burst: number) {
    this.#perSec = perSec;
    this.#burst = burst;
  }

  /** Takes one token for key; false when the bucket is empty (the caller answers 429). */
  take(key: string, now = Date.now()): boolean {
    let b = this.#buckets.get(key);
    if (!b) {
      b = { tokens: this.#burst, at: now };
      this.#buckets.set(key, b);
    } else {
      b.tokens = Math.min(this.#burst, b.tokens + ((now - b.at) / 1000) * this.#perSec);
      b.at = now;
    }
    if (b.tokens < 1) return false;
    b.tokens -= 1;
    return true;
  }

  /** Seconds until key has a token again (for Retry-After). */
  retryAfterSec(key: string): number {
    const b = this.#buckets.get(key);
    if (!b || b.tokens >= 1 || this.#perSec <= 0) return 1;
    return Math.max(1, Math.ceil((1 - b.tokens) / this.#perSec));
  }

  /** Forgets buckets that have refilled completely; they would start full anyway. */
  prune(now = Date.now()): void {
    for (const [k, b] of this.#buckets) {
      if (b.tokens + ((now - b.at) / 1000) * this.#perSec >= this.#burst) this.#buckets.delete(k);
    }
  }

  get size(): number {
    return this.#buckets.size;
  }
}
