/** @module PrefixSkip: drops a stream's first N bytes, whatever the chunking: what a resumed send does not send again. */

/** Passes through all but the first `n` bytes of what it is given, as views (never copies). */
export class PrefixSkip {
  #left: number;

  constructor(n: number) {
    if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`Cannot skip ${n} bytes: not a byte count`);
    this.#left = n;
  }

  /** Bytes still to drop. */
  get left(): number {
    return this.#left;
  }

  /** The part of `bytes` past the skipped prefix; undefined when all of it is still inside the prefix. */
  take(bytes: Uint8Array): Uint8Array | undefined {
    if (this.#left === 0) return bytes;
    const n = Math.min(this.#left, bytes.byteLength);
    this.#left -= n;
    return n === bytes.byteLength ? undefined : bytes.subarray(n);
  }
}
