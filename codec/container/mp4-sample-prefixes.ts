/** @module The first bytes of every MP4 sample, taken as the file streams past (or asked for afterwards), with memory bounded by one prefix. */

import type { ByteRange } from "../recording-index.ts";

/**
 * Bytes read from the start of each sample to find its first slice header. x264 puts a ~700-byte SEI
 * before the first slice; other NALs before a slice (AUD, SEI, parameter sets) are short.
 */
export const SAMPLE_PREFIX_BYTES = 4096;
/** Largest range asked for after the stream: overlapping or adjacent prefixes merge up to this. */
export const MAX_SUPPLY_BYTES = 1024 * 1024;

/** Samples at one file offset: order positions [first, end), whose longest prefix ends at `prefixEnd`. */
interface Group {
  first: number;
  end: number;
  prefixEnd: number;
}

interface SampleSpan {
  readonly offset: number;
  readonly size: number;
}

/**
 * Hands `onPrefix(sample, bytes)` the first min(size, SAMPLE_PREFIX_BYTES) bytes of each sample. A prefix that
 * lies inside one pushed chunk is a view of it; only prefixes that straddle chunks are joined, from a copy of
 * at most SAMPLE_PREFIX_BYTES recent bytes. Samples that share a start offset wait as one group. So a sample
 * table crafted to make millions of samples overlap (the same stco entry repeated) costs time linear in the
 * samples and no memory per sample beyond two flags, where one buffer per sample had taken gigabytes.
 */
export class Mp4SamplePrefixes {
  readonly #samples: readonly SampleSpan[];
  readonly #onPrefix: (sample: number, prefix: Uint8Array) => void;
  /** Sample indices by file offset (ties in index order), and the next one not yet reached by the stream. */
  readonly #order: Int32Array;
  #next = 0;
  readonly #seen: Uint8Array;
  /** Groups of samples at one offset whose prefixes are still arriving. */
  #pending: Group[] = [];
  /** File bytes [#recentStart, end of the last chunk) that pending groups still need. */
  #recent: Uint8Array = new Uint8Array(0);
  #recentStart = 0;

  /** Samples starting before `from` passed before the sample table was known: missing() lists them. */
  constructor(
    samples: readonly SampleSpan[],
    from: number,
    onPrefix: (sample: number, prefix: Uint8Array) => void,
  ) {
    this.#samples = samples;
    this.#onPrefix = onPrefix;
    const order = Int32Array.from(samples.keys());
    order.sort((a, b) => samples[a]!.offset - samples[b]!.offset || a - b);
    this.#order = order;
    this.#seen = new Uint8Array(samples.length);
    while (this.#next < order.length && samples[order[this.#next]!]!.offset < from) this.#next++;
  }

  /** The next chunk of the file, whose first byte is at `chunkOffset` (chunks come in order, without gaps). */
  push(chunk: Uint8Array, chunkOffset: number): void {
    const chunkEnd = chunkOffset + chunk.length;
    const prev = this.#recent;
    const prevStart = this.#recentStart;
    if (this.#pending.length > 0) {
      // Every pending prefix started in `prev` and ends within SAMPLE_PREFIX_BYTES of it.
      const take = Math.min(chunk.length, SAMPLE_PREFIX_BYTES);
      const joined = new Uint8Array(prev.length + take);
      joined.set(prev);
      joined.set(chunk.subarray(0, take), prev.length);
      const joinedEnd = chunkOffset + take;
      this.#pending = this.#pending.filter((g) => !this.#deliverGroup(g, joined, prevStart, joinedEnd));
    }
    const samples = this.#samples;
    const order = this.#order;
    while (this.#next < order.length && samples[order[this.#next]!]!.offset < chunkEnd) {
      const first = this.#next;
      const offset = samples[order[first]!]!.offset;
      while (this.#next < order.length && samples[order[this.#next]!]!.offset === offset) this.#next++;
      let longest = 0;
      for (let k = first; k < this.#next; k++) longest = Math.max(longest, samples[order[k]!]!.size);
      const group = { first, end: this.#next, prefixEnd: offset + Math.min(longest, SAMPLE_PREFIX_BYTES) };
      if (!this.#deliverGroup(group, chunk, chunkOffset, chunkEnd)) this.#pending.push(group);
    }
    if (this.#pending.length === 0) {
      this.#recent = new Uint8Array(0);
      return;
    }
    let from = chunkEnd;
    for (const g of this.#pending) from = Math.min(from, samples[order[g.first]!]!.offset);
    if (from >= chunkOffset) {
      this.#recent = chunk.slice(from - chunkOffset);
    } else {
      const keep = prev.subarray(from - prevStart);
      const recent = new Uint8Array(keep.length + chunk.length);
      recent.set(keep);
      recent.set(chunk, keep.length);
      this.#recent = recent;
    }
    this.#recentStart = from;
  }

  /**
   * File ranges holding the prefixes not seen yet (samples that passed before the table was known, or whose
   * prefix the end of the file at `fileLength` cut): sorted, overlapping ones merged up to MAX_SUPPLY_BYTES.
   */
  missing(fileLength: number): ByteRange[] {
    this.#pending = [];
    this.#recent = new Uint8Array(0);
    const out: ByteRange[] = [];
    for (const i of this.#order) {
      const s = this.#samples[i]!;
      if (this.#seen[i] || s.size === 0 || s.offset >= fileLength) continue;
      const end = s.offset + Math.min(s.size, SAMPLE_PREFIX_BYTES, fileLength - s.offset);
      const last = out[out.length - 1];
      if (last && s.offset <= last.offset + last.length && end - last.offset <= MAX_SUPPLY_BYTES) {
        last.length = Math.max(last.length, end - last.offset);
      } else {
        out.push({ offset: s.offset, length: end - s.offset });
      }
    }
    return out;
  }

  /** File bytes [offset, offset + bytes.length), for missing(): every unseen prefix inside them is handed on. */
  supply(offset: number, bytes: Uint8Array, fileLength: number): void {
    const samples = this.#samples;
    const order = this.#order;
    let lo = 0;
    let hi = order.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (samples[order[mid]!]!.offset < offset) lo = mid + 1;
      else hi = mid;
    }
    const end = offset + bytes.length;
    for (let k = lo; k < order.length && samples[order[k]!]!.offset < end; k++) {
      const i = order[k]!;
      const s = samples[i]!;
      const need = Math.min(s.size, SAMPLE_PREFIX_BYTES, fileLength - s.offset);
      if (this.#seen[i] || need <= 0 || s.offset + need > end) continue;
      this.#seen[i] = 1;
      this.#onPrefix(i, bytes.subarray(s.offset - offset, s.offset - offset + need));
    }
  }

  /** Hands on a group's prefixes if `bytes` (file offset `start`, up to `end`) hold all of them. */
  #deliverGroup(group: Group, bytes: Uint8Array, start: number, end: number): boolean {
    if (group.prefixEnd > end) return false;
    const samples = this.#samples;
    const order = this.#order;
    const offset = samples[order[group.first]!]!.offset;
    for (let k = group.first; k < group.end; k++) {
      const i = order[k]!;
      const size = Math.min(samples[i]!.size, SAMPLE_PREFIX_BYTES);
      if (size === 0) continue;
      this.#seen[i] = 1;
      this.#onPrefix(i, bytes.subarray(offset - start, offset - start + size));
    }
    return true;
  }
}
