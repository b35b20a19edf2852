/** @module SpilledVarintReader: TableVarintReader's forward cursor over header bytes kept in a HeaderSpill, read back a window at a time. */
import type { HeaderSpill } from "./header-spill.ts";
import { MAX_VARINT_BYTES, TableVarintReader } from "./table-varint-reader.ts";

/** Bytes read back from the spill at once: the reader holds this much of the table, however long it is. */
export const SPILL_WINDOW_BYTES = 64 * 1024;

/**
 * A cursor over header bytes [at, end) of a spill: next() gives the next number, with TableVarintReader's checks
 * and errors (ERR_PATTERN_RANGES: a number cut by the end, longer than 8 bytes or past 2^53). Forward only. The
 * numbers are decoded by a TableVarintReader over the window, whose table end is the window's end: a refill
 * keeps a whole number (at most 8 bytes) in the window unless the table itself ends sooner.
 */
export class SpilledVarintReader {
  readonly #spill: HeaderSpill;
  readonly #end: number;
  readonly #window: Uint8Array;
  /** Header offset of #window[0], and how many of its bytes are valid (the window reader's table end). */
  #base: number;
  #readerEnd = 0;
  #reader: TableVarintReader;

  constructor(spill: HeaderSpill, at: number, end: number, windowBytes = SPILL_WINDOW_BYTES) {
    this.#spill = spill;
    this.#end = end;
    this.#window = new Uint8Array(Math.max(MAX_VARINT_BYTES, Math.min(windowBytes, Math.max(0, end - at))));
    this.#base = at;
    this.#reader = new TableVarintReader(this.#window, 0, 0, at);
  }

  /** The next byte to read (a header offset). */
  get at(): number {
    return this.#base + this.#reader.at;
  }

  next(): number {
    const at = this.at;
    // Refill so a whole number (at most 8 bytes) is in the window, or the table's end is.
    if (at + MAX_VARINT_BYTES > this.#base + this.#readerEnd && this.#base + this.#readerEnd < this.#end) {
      const n = Math.min(this.#window.length, this.#end - at);
      this.#spill.read(at, this.#window.subarray(0, n));
      this.#base = at;
      this.#readerEnd = n;
      this.#reader = new TableVarintReader(this.#window, 0, n, at);
    }
    return this.#reader.next();
  }
}
