/** @module Applies a pattern keystream to the ranges of a direct body streamed in chunks: encrypts and decrypts alike, in place. */
import { CodecError } from "../codec-error.ts";
import type { ByteRange } from "../recording-index.ts";

/**
 * `data` XOR keystream bytes [position, position + data.length) of one transfer, as a new array
 * (crypto/keystream.ts makes one). The codec stays free of keys: it only says which keystream bytes to apply.
 */
export type PatternKeystream = (position: number, data: Uint8Array) => Promise<Uint8Array>;

/**
 * Keystream bytes made per keystream call. One call costs 30-90 µs whatever its size (WebCrypto's dispatch and
 * fresh buffers), and a 4 MiB chunk of the direct body arrives as ~15 pieces between protected ranges: one call
 * per piece made the cipher most of pattern mode's cost (~0.3 s/GiB on the bench ES, docs/security.md Cost).
 */
const KEYSTREAM_WINDOW = 1024 * 1024;
const ZEROS = new Uint8Array(KEYSTREAM_WINDOW);

/**
 * XORs keystream into the bytes of `ranges` as the body streams past, chunk boundaries anywhere. Keystream
 * position = number of range bytes before this one (the byte's ordinal among encrypted bytes), so the
 * keystream is one contiguous run consumed in order: it is made a window of KEYSTREAM_WINDOW bytes at a time
 * (the keystream of zeros) and XORed into each chunk's range bytes, and the keystream generated is exactly
 * the bytes encrypted. XOR is its own inverse, so the receiver runs the same.
 */
export class PatternCipher {
  readonly #ranges: readonly ByteRange[];
  readonly #keystream: PatternKeystream;
  readonly #bodyLength: number;
  /** Σ range lengths: the keystream's length. */
  readonly #keystreamLength: number;
  #pos = 0;
  #next = 0;
  /** Σ lengths of ranges before #next. */
  #before = 0;
  /** Keystream bytes [#windowStart, #windowStart + #window.length). */
  #window: Uint8Array = new Uint8Array(0);
  #windowStart = 0;
  /** The range bytes of one chunk, reused. */
  #gathered: Buffer = Buffer.alloc(0);

  constructor(ranges: readonly ByteRange[], bodyLength: number, keystream: PatternKeystream) {
    this.#ranges = ranges;
    this.#bodyLength = bodyLength;
    this.#keystream = keystream;
    this.#keystreamLength = ranges.reduce((n, r) => n + r.length, 0);
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
    let i = this.#next;
    let before = this.#before;
    const first = ranges[i];
    if (first === undefined || first.offset >= end) return;
    const ksStart = before + Math.max(0, start - first.offset);
    // Gather the range bytes of this chunk into one run (Buffer#copy: a memcpy per range, no view), XOR the
    // run with the keystream in one tight loop, scatter it back. Ranges are short (64 bytes by default), so a
    // loop per range cost more in setup than in XOR.
    let need = 0;
    for (let j = i; j < ranges.length && ranges[j]!.offset < end; j++) {
      const r = ranges[j]!;
      need += Math.min(end, r.offset + r.length) - Math.max(start, r.offset);
    }
    if (this.#gathered.length < need)
      this.#gathered = Buffer.allocUnsafe(Math.max(need, this.#gathered.length * 2));
    const gathered = this.#gathered;
    const src = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    let g = 0;
    for (let j = i; j < ranges.length && ranges[j]!.offset < end; j++) {
      const r = ranges[j]!;
      g += src.copy(
        gathered,
        g,
        Math.max(start, r.offset) - start,
        Math.min(end, r.offset + r.length) - start,
      );
    }
    for (let at = 0, k = ksStart; at < need; ) {
      if (k < this.#windowStart || k >= this.#windowStart + this.#window.length) await this.#refill(k);
      const w = this.#window;
      const off = k - this.#windowStart;
      const n = Math.min(need - at, w.length - off);
      xorInto(gathered, at, w, off, n);
      at += n;
      k += n;
    }
    g = 0;
    for (; i < ranges.length && ranges[i]!.offset < end; i++) {
      const r = ranges[i]!;
      const from = Math.max(start, r.offset) - start;
      const rEnd = r.offset + r.length;
      const to = Math.min(end, rEnd) - start;
      g += gathered.copy(src, from, g, g + (to - from));
      if (rEnd > end) break;
      before += r.length;
    }
    this.#next = i;
    this.#before = before;
  }

  /** Makes the keystream window that starts at position `k`. */
  async #refill(k: number): Promise<void> {
    const n = Math.min(KEYSTREAM_WINDOW, this.#keystreamLength - k);
    this.#window = await this.#keystream(k, ZEROS.subarray(0, n));
    this.#windowStart = k;
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

/**
 * dst[at, at + n) ^= src[from, from + n). A plain function, not inline in the async apply(): the engine
 * optimizes this loop fully here (3.6 GB/s) and far less inside an async function (0.5 GB/s measured).
 */
function xorInto(dst: Uint8Array, at: number, src: Uint8Array, from: number, n: number): void {
  for (let x = 0; x < n; x++) dst[at + x]! ^= src[from + x]!;
}
