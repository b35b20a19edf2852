/** @module Routes a recording's bytes, chunk by chunk, into the protected and the direct body by a range table. */
import { codecError } from "../codec-error.ts";
import type { ByteRange } from "../recording-index.ts";
import { checkSplitRanges } from "./split-format.ts";

/** The body bytes one pushed chunk yields, in order; views into the pushed chunk, never copies. */
export interface RoutedChunks {
  protected: Uint8Array[];
  direct: Uint8Array[];
}

/**
 * Pass 2 of a split: feed the original's bytes in order, in chunks of any size; each push returns the pieces
 * that belong to the protected body (bytes inside a range) and to the direct body (the rest). State is the
 * position and the current range index, so memory does not grow with the file.
 */
export class RangeRouter {
  readonly #ranges: readonly ByteRange[];
  readonly #total: number;
  #pos = 0;
  #next = 0;

  constructor(ranges: readonly ByteRange[], totalLength: number) {
    checkSplitRanges(ranges, totalLength);
    this.#ranges = ranges;
    this.#total = totalLength;
  }

  /** Bytes routed so far. */
  get position(): number {
    return this.#pos;
  }

  push(chunk: Uint8Array): RoutedChunks {
    const out: RoutedChunks = { protected: [], direct: [] };
    if (this.#pos + chunk.length > this.#total) {
      throw codecError(
        "ERR_SPLIT_LENGTH",
        `Cannot route: the original grew past its indexed ${this.#total} bytes`,
        this.#total,
      );
    }
    let at = 0;
    while (at < chunk.length) {
      const range = this.#ranges[this.#next];
      if (range === undefined || this.#pos < range.offset) {
        const stop = range === undefined ? this.#total : range.offset;
        const n = Math.min(stop - this.#pos, chunk.length - at);
        out.direct.push(chunk.subarray(at, at + n));
        at += n;
        this.#pos += n;
      } else {
        const n = Math.min(range.offset + range.length - this.#pos, chunk.length - at);
        out.protected.push(chunk.subarray(at, at + n));
        at += n;
        this.#pos += n;
        if (this.#pos === range.offset + range.length) this.#next++;
      }
    }
    return out;
  }

  /** Throws ERR_SPLIT_LENGTH unless exactly the indexed length was routed. */
  finish(): void {
    if (this.#pos !== this.#total) {
      throw codecError(
        "ERR_SPLIT_LENGTH",
        `Cannot route: the original ended at ${this.#pos} bytes, the index expects ${this.#total}`,
        this.#pos,
      );
    }
  }
}
