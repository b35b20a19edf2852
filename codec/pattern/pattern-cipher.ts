/** @module Applies a pattern keystream to the ranges of a direct body streamed in chunks: encrypts and decrypts alike, in place. */
import { CodecError } from "../codec-error.ts";
import type { ByteRange } from "../recording-index.ts";

/**
 * `data` XOR keystream bytes [position, position + data.length) of one transfer, as a new array
 * (crypto/keystream.ts makes one). The codec stays free of keys: it only says which keystream bytes to apply.
 */
export type PatternKeystream = (position: number, data: Uint8Array) => Promise<Uint8Array>;

/**
 * XORs keystream into the bytes of `ranges` as the body streams past, chunk boundaries anywhere. Keystream
 * position = number of range bytes before this one (the byte's ordinal among encrypted bytes), so one chunk
 * needs one contiguous keystream run however many ranges it touches: one cipher call per chunk, and the
 * keystream generated is exactly the bytes encrypted. XOR is its own inverse, so the receiver runs the same.
 */
export class PatternCipher {
  readonly #ranges: readonly ByteRange[];
  readonly #keystream: PatternKeystream;
  readonly #bodyLength: number;
  #pos = 0;
  #next = 0;
  /** Σ lengths of ranges before #next. */
  #before = 0;

  constructor(ranges: readonly ByteRange[], bodyLength: number, keystream: PatternKeystream) {
    this.#ranges = ranges;
    this.#bodyLength = bodyLength;
    this.#keystream = keystream;
  }

  /** Body bytes seen so far. */
  get position(): number {
    return this.#pos;
  }

  /**
   * Transforms the next `chunk.length` body bytes in place (the caller's buffer is overwritten: pass one you
   * own). Calls must not overlap: await each before the next. Throws ERR_PATTERN_LENGTH past the body's end.
   */
  async apply(chunk: Uint8Array): Promise<void> {
    const start = this.#pos;
    const end = start + chunk.length;
    if (end > this.#bodyLength) {
      throw new CodecError(
        "ERR_PATTERN_LENGTH",
        `Cannot apply pattern: body runs past its ${this.#bodyLength} bytes`,
        start,
      );
    }
    this.#pos = end;
    const ranges = this.#ranges;
    // Skip ranges that ended before this chunk (only possible if none were touched: never after #next moves).
    let i = this.#next;
    let before = this.#before;
    const first = ranges[i];
    if (first === undefined || first.offset >= end) return;
    const ksStart = before + Math.max(0, start - first.offset);
    // Count the keystream bytes this chunk needs.
    let need = 0;
    for (let j = i; j < ranges.length && ranges[j]!.offset < end; j++) {
      const r = ranges[j]!;
      need += Math.min(end, r.offset + r.length) - Math.max(start, r.offset);
    }
    if (need === 0) return;
    // Gather the range bytes into one run, let the cipher XOR it natively, scatter it back: the XOR never
    // runs byte by byte in JavaScript, and Buffer.copy moves each piece without allocating a view.
    const src = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    const gathered = Buffer.allocUnsafe(need);
    let k = 0;
    let j = i;
    for (; j < ranges.length && ranges[j]!.offset < end; j++) {
      const r = ranges[j]!;
      k += src.copy(
        gathered,
        k,
        Math.max(start, r.offset) - start,
        Math.min(end, r.offset + r.length) - start,
      );
    }
    const xored = await this.#keystream(ksStart, gathered);
    const out = Buffer.from(xored.buffer, xored.byteOffset, xored.byteLength);
    k = 0;
    for (; i < ranges.length && ranges[i]!.offset < end; i++) {
      const r = ranges[i]!;
      const from = Math.max(start, r.offset) - start;
      const rEnd = r.offset + r.length;
      const to = Math.min(end, rEnd) - start;
      k += out.copy(src, from, k, k + (to - from));
      if (rEnd > end) break;
      before += r.length;
    }
    this.#next = i;
    this.#before = before;
  }

  /** Throws ERR_PATTERN_LENGTH unless exactly the body was transformed. */
  finish(): void {
    if (this.#pos !== this.#bodyLength) {
      throw new CodecError(
        "ERR_PATTERN_LENGTH",
        `Cannot finish pattern: ${this.#pos} of the body's ${this.#bodyLength} bytes came`,
        this.#pos,
      );
    }
  }
}
