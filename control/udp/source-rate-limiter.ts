/** @module Per-source-address token buckets that shed UDP floods before any parsing or crypto. */

/** Rate and burst per source IP; ports are ignored because a flooder can vary them freely. */
export interface RateLimit {
  readonly perSecond: number;
  readonly burst: number;
}

/** Default: far above one device's keepalives, and room for some hundred devices behind one carrier-grade NAT. */
export const DEFAULT_UDP_RATE_LIMIT: RateLimit = { perSecond: 50, burst: 100 };

/**
 * Token bucket per source. The table is bounded: when full, the longest-tracked source is forgotten (it simply
 * starts again with a full bucket), so spoofed-source floods cost memory O(maxSources) and nothing more.
 */
export class SourceRateLimiter {
  readonly #buckets = new Map<string, { tokens: number; last: number }>();
  readonly #limit: RateLimit;
  readonly #maxSources: number;

  constructor(limit: RateLimit, maxSources = 65_536) {
    this.#limit = limit;
    this.#maxSources = maxSources;
  }

  /** True if a datagram from source may be processed now (and spends a token). */
  allow(source: string, nowMs: number): boolean {
    let b = this.#buckets.get(source);
    if (!b) {
      if (this.#buckets.size >= this.#maxSources) {
        const oldest = this.#buckets.keys().next().value;
        if (oldest !== undefined) this.#buckets.delete(oldest);
      }
      b = { tokens: this.#limit.burst, last: nowMs };
      this.#buckets.set(source, b);
    } else {
      const refill = ((nowMs - b.last) / 1000) * this.#limit.perSecond;
      b.tokens = Math.min(this.#limit.burst, b.tokens + Math.max(0, refill));
      b.last = nowMs;
    }
    if (b.tokens < 1) return false;
    b.tokens -= 1;
    return true;
  }

  get trackedSources(): number {
    return this.#buckets.size;
  }
}
