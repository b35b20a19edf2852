/** @module Reads the unsigned LEB128 numbers of a pattern header's table (versions 1 to 3), checked against the table's end. */
import { codecError } from "../codec-error.ts";

/** A table number takes at most this many bytes: 8 × 7 bits hold every safe integer (2^53). */
export const MAX_VARINT_BYTES = 8;

/**
 * A cursor over a header's table, bytes [at, end): next() gives the next number. A number cut by the table's
 * end, longer than MAX_VARINT_BYTES or past 2^53 is ERR_PATTERN_RANGES with the byte offset: a damaged or lying
 * header stops here, never reads past its table. `base`: the header offset of `bytes[0]`, when `bytes` is a
 * window of a longer header (SpilledVarintReader), so that errors name header offsets.
 */
export class TableVarintReader {
  readonly #bytes: Uint8Array;
  readonly #end: number;
  readonly #base: number;
  /** The next byte to read. */
  at: number;

  constructor(bytes: Uint8Array, at: number, end: number, base = 0) {
    this.#bytes = bytes;
    this.at = at;
    this.#end = end;
    this.#base = base;
  }

  next(): number {
    let value = 0;
    let scale = 1;
    for (let i = 0; i < MAX_VARINT_BYTES; i++) {
      if (this.at >= this.#end) fail("the table ends inside a number", this.#base + this.at);
      const b = this.#bytes[this.at++]!;
      value += (b & 0x7f) * scale;
      if ((b & 0x80) === 0) {
        if (!Number.isSafeInteger(value)) fail("a table number exceeds 2^53", this.#base + this.at);
        return value;
      }
      scale *= 128;
    }
    return fail("a table number runs past 8 bytes", this.#base + this.at);
  }
}

function fail(message: string, offset: number): never {
  throw codecError("ERR_PATTERN_RANGES", `Cannot read pattern header: ${message}`, offset);
}
