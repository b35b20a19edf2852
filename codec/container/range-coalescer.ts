/** @module Builds the sorted, disjoint, coalesced file ranges of RecordingIndex.protectedRanges. */

import type { ByteRange } from "../recording-index.ts";

/**
 * Collects byte ranges, mostly arriving in ascending order (PES and TS packets as the file streams), and
 * yields them sorted with overlapping and adjacent ranges merged. Out-of-order ranges are sorted at the end.
 */
export class RangeCoalescer {
  readonly #list: ByteRange[] = [];
  #sorted = true;

  add(offset: number, length: number): void {
    if (length <= 0) return;
    const last = this.#list[this.#list.length - 1];
    if (last && offset >= last.offset && offset <= last.offset + last.length) {
      last.length = Math.max(last.length, offset + length - last.offset);
      return;
    }
    if (last && offset < last.offset) this.#sorted = false;
    this.#list.push({ offset, length });
  }

  ranges(): ByteRange[] {
    const items = this.#sorted ? this.#list : [...this.#list].sort((a, b) => a.offset - b.offset);
    const out: ByteRange[] = [];
    for (const r of items) {
      const last = out[out.length - 1];
      if (last && r.offset <= last.offset + last.length) {
        last.length = Math.max(last.length, r.offset + r.length - last.offset);
      } else {
        out.push({ offset: r.offset, length: r.length });
      }
    }
    return out;
  }
}
