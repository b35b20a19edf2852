/** @module A seeded PRNG for fuzz and property tests: the same seed gives the same cases on every run and machine. */

/** mulberry32: 32 bits of state, fast, and good enough to pick fuzz inputs (not for anything secret). */
export class SeededRandom {
  #s: number;

  constructor(seed: number) {
    this.#s = seed >>> 0;
  }

  /** A float in [0, 1). */
  next(): number {
    this.#s = (this.#s + 0x6d2b79f5) >>> 0;
    let t = this.#s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  }

  /** An integer in [0, n). */
  below(n: number): number {
    return Math.floor(this.next() * n);
  }

  byte(): number {
    return this.below(256);
  }

  bytes(n: number): Uint8Array {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) out[i] = this.byte();
    return out;
  }

  /** Splits `bytes` into consecutive views of random sizes, mostly 1-8 bytes, sometimes up to 4 KiB. */
  chunks(bytes: Uint8Array): Uint8Array[] {
    const out: Uint8Array[] = [];
    for (let at = 0; at < bytes.length; ) {
      const size = this.next() < 0.7 ? 1 + this.below(8) : 1 + this.below(4096);
      out.push(bytes.subarray(at, at + size));
      at += size;
    }
    return out;
  }

  /** A copy of src with each byte replaced by a random one with probability `rate`. */
  sprinkle(src: Uint8Array, rate: number): Uint8Array {
    return src.map((v) => (this.next() < rate ? this.byte() : v));
  }
}

/** The same PRNG as a function returning integers in [0, n) (0 when n < 1), the shape the fuzz generators pass around. */
export function seededInts(seed: number): (n: number) => number {
  const random = new SeededRandom(seed);
  return (n) => (n < 1 ? 0 : random.below(n));
}

/** n bytes drawn from an integer source such as seededInts'. */
export function randomBytes(rand: (n: number) => number, n: number): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = rand(256);
  return b;
}
