/** @module SpilledVarintReader: TableVarintReader's forward cursor over header bytes kept in a HeaderSpill, read back a window at a time. */
import { codecError } from "../codec-error.ts";
import type { HeaderSpill } from "./header-spill.ts";
import { MAX_VARINT_BYTES } from "./table-varint-reader.ts";

/** Bytes read back from the spill at once: the reader holds this much of the table, however long it is. */
export const SPILL_WINDOW_BYTES = 64 * 1024;

/**
 * A cursor over header bytes [at, end) of a spill: next() gives the next number, with TableVarintReader's checks
 * and errors (ERR_PATTERN_RANGES: a number cut by the end, longer than 8 bytes or past 2^53). Forward only.
 */
export class SpilledVarintReader {
  readonly #spill: HeaderSpill;
  readonly #end: number;
  readonly #window: Uint8Array;
  /** Header offset of #window[0], and how many of its bytes are valid. */
  #base: number;
  #filled = 0;
  /** The next byte to read (a header offset). */
  at: number;

  constructor(spill: HeaderSpill, at: number, end: number, windowBytes = SPILL_WINDOW_BYTES) {
    this.#spill = spill;
    this.#end = end;
    this.#window = new Uint8Array(Math.max(MAX_VARINT_BYTES, Math.min(windowBytes, Math.max(0, end - at))));
    this.#base = at;
    this.at = at;
  }

  next(): number {
    // Refill so a whole number (at most 8 bytes) is in the window, or the table's end is.
    if (this.at + MAX_VARINT_BYTES > this.#base + this.#filled && this.#base + this.#filled < this.#end) {
      const n = Math.min(this.#window.length, this.#end - this.at);
      this.#spill.read(this.at, this.#window.subarray(0, n));
      this.#base = this.at;
      this.#filled = n;
    }
    const w = this.#window;
    let value = 0;
    let scale = 1;
    for (let i = 0; i < MAX_VARINT_BYTES; i++) {
      if (this.at >= this.#end) fail("the table ends inside a number", this.at);
      const b = w[this.at++ - this.#base]!;
      value += (b & 0x7f) * scale;
      if ((b & 0x80) === 0) {
        if (!Number.isSafeInteger(value)) fail("a table number exceeds 2^53", this.at);
        return value;
      }
      scale *= 128;
    }
    return fail("a table number runs past 8 bytes", this.at);
  }
}

function fail(message: string, offset: number): never {
  throw codecError("ERR_PATTERN_RANGES", `Cannot read pattern header: ${message}`, offset);
}
