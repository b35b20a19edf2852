/** @module A seeded PRNG (mulberry32) so fuzz and chunking tests are deterministic and reproducible. */

export class TestRandom {
  #state: number;

  constructor(seed: number) {
    this.#state = seed >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    this.#state = (this.#state + 0x6d2b79f5) >>> 0;
    let t = this.#state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** Integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** Splits `bytes` into consecutive chunks of random sizes, mostly small, sometimes large. */
  chunks(bytes: Uint8Array): Uint8Array[] {
    const out: Uint8Array[] = [];
    for (let at = 0; at < bytes.length; ) {
      const size = this.next() < 0.7 ? 1 + this.int(8) : 1 + this.int(4096);
      out.push(bytes.subarray(at, at + size));
      at += size;
    }
    return out;
  }
}
