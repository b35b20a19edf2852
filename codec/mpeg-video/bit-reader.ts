/**
 * @module A big-endian bit reader over a byte range, for the few dozen bits of an MPEG video header. At the end
 * of its range a read or skip throws (bitsExhausted(): CodecRangeError ERR_BITS_EXHAUSTED) and consumes nothing;
 * it never returns a partial value. RbspBits (container/rbsp-bits.ts) ends the same way. Throwing costs nothing
 * on the hot path: the bounds check is there either way, and only a cut-off header reaches the throw.
 */
import { bitsExhausted } from "../bits-exhausted.ts";

/**
 * Reads MSB-first (ISO/IEC 13818-2 5.1: bslbf/uimsbf fields). Every picture header passes through here while
 * indexing, so reads take whole byte pieces rather than single bits.
 */
export class BitReader {
  #pos: number;
  readonly #end: number;

  /** Reads bytes[start..end) bit by bit; `end` defaults to the end of `bytes`. */
  constructor(
    readonly bytes: Uint8Array,
    start: number,
    end: number = bytes.length,
  ) {
    this.#pos = start * 8;
    this.#end = Math.min(end, bytes.length) * 8;
  }

  /** Current position in bits from the start of `bytes`. */
  get bitPosition(): number {
    return this.#pos;
  }

  /** Byte offset of the next unread bit, rounded up to the next byte boundary. */
  get alignedByteOffset(): number {
    return Math.ceil(this.#pos / 8);
  }

  bitsLeft(): number {
    return this.#end - this.#pos;
  }

  /** Reads an unsigned field of `n` bits (n <= 32), a byte-sized piece at a time. */
  read(n: number): number {
    let p = this.#pos;
    if (p + n > this.#end) throw bitsExhausted(p, this.#end);
    let value = 0;
    let left = n;
    while (left > 0) {
      const avail = 8 - (p & 7);
      const take = Math.min(avail, left);
      const bits = ((this.bytes[p >> 3] as number) >> (avail - take)) & ((1 << take) - 1);
      value = value * (1 << take) + bits;
      p += take;
      left -= take;
    }
    this.#pos = p;
    return value;
  }

  flag(): boolean {
    return this.read(1) === 1;
  }

  skip(n: number): void {
    if (this.#pos + n > this.#end) throw bitsExhausted(this.#pos, this.#end);
    this.#pos += n;
  }
}
