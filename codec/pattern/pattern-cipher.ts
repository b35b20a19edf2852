/** @module Applies a pattern keystream to the ranges of a direct body streamed in chunks: encrypts and decrypts alike, in place. */
import { codecError } from "../codec-error.ts";
import { type PatternRanges, PatternRangeTable } from "./pattern-range-table.ts";
import { blockRule, type PatternScheme, ruleBytes } from "./pattern-scheme.ts";

/**
 * Keystream bytes [position, position + length) of one transfer, as a new array (crypto/keystream.ts makes
 * one). The codec stays free of keys: it only says which keystream bytes it needs.
 */
export type PatternKeystream = (position: number, length: number) => Uint8Array;

/** Keystream made per cipher call: 256 KiB, about sixteen 4 MiB chunks' worth at the default scheme. */
const KEYSTREAM_RUN_BYTES = 256 * 1024;

/** Scratch bytes skip() runs the keystream over per call. */
const SKIP_SCRATCH_BYTES = 1024 * 1024;

/** Spans shorter than this are not warmed first: their misses are few. */
const WARM_SPAN_BYTES = 64 * 1024;
/** What the warming pass searches for; finding it or not changes nothing. */
const WARM_NEEDLE = Buffer.from("pvrlink warm pass");

/**
 * XORs keystream into the bytes of `ranges` as the body streams past, chunk boundaries anywhere. Keystream
 * position = number of range bytes before this one (the byte's ordinal among encrypted bytes), so one chunk
 * needs one contiguous keystream run however many ranges it touches, and runs of later chunks continue
 * where the last stopped: the keystream is made in large runs, each call continuing the stream, and each
 * keystream position XORs exactly one body byte. XOR is its own inverse, so the receiver runs the same.
 */
export class PatternCipher {
  readonly #ranges: PatternRangeTable;
  readonly #keystream: PatternKeystream;
  readonly #bodyLength: number;
  #pos = 0;
  #next = 0;
  /** Σ lengths of ranges before #next. */
  #before = 0;
  /** Keystream made ahead: bytes [#runStart, #runStart + #run.length). */
  #run: Uint8Array = new Uint8Array(0);
  #runStart = 0;
  /** slice-block's rule inside each range (bytes); #period 0: every byte of a range is encrypted. */
  readonly #crypt: number = 0;
  readonly #period: number = 0;
  readonly #rule: { crypt: number; period: number } | undefined;

  /**
   * `plan.scheme`: the header's; only slice-block changes what the cipher does (it applies a rule inside each
   * range). Without one, every range byte is encrypted.
   */
  constructor(
    plan: { ranges: PatternRanges; scheme?: PatternScheme | undefined },
    bodyLength: number,
    keystream: PatternKeystream,
  ) {
    this.#ranges = PatternRangeTable.from(plan.ranges);
    this.#bodyLength = bodyLength;
    this.#keystream = keystream;
    const rule = plan.scheme === undefined ? undefined : blockRule(plan.scheme);
    this.#rule = rule;
    if (rule !== undefined) {
      this.#crypt = rule.crypt;
      this.#period = rule.period;
    }
  }

  /** Encrypted bytes among a range's first `x` bytes (no allocation: this runs a few times per range). */
  #encrypted(x: number): number {
    const rule = this.#rule;
    return rule === undefined || x <= rule.crypt ? x : ruleBytes(rule, x);
  }

  /** Body bytes seen so far. */
  get position(): number {
    return this.#pos;
  }

  /**
   * Transforms the next `chunk.length` body bytes in place (the caller's buffer is overwritten: pass one you
   * own). Synchronous: a body of thousands of chunks costs no promise per chunk. Throws ERR_PATTERN_LENGTH
   * past the body's end.
   */
  apply(chunk: Uint8Array): void {
    const start = this.#pos;
    const end = start + chunk.length;
    if (end > this.#bodyLength) {
      throw codecError(
        "ERR_PATTERN_LENGTH",
        `Cannot apply pattern: body runs past its ${this.#bodyLength} bytes`,
        start,
      );
    }
    this.#pos = end;
    const ranges = this.#ranges;
    // #next is the first range not wholly before this chunk: earlier calls moved past every finished one.
    let i = this.#next;
    let before = this.#before;
    const count = ranges.count;
    if (i >= count) return;
    const firstOffset = ranges.offsetAt(i);
    if (firstOffset >= end) return;
    const ksStart = before + this.#encrypted(Math.max(0, start - firstOffset));
    let need = 0;
    let spanEnd = start;
    for (let j = i; j < count; j++) {
      const offset = ranges.offsetAt(j);
      if (offset >= end) break;
      spanEnd = Math.min(end, offset + ranges.lengthAt(j));
      need += this.#encrypted(spanEnd - offset) - this.#encrypted(Math.max(start, offset) - offset);
    }
    // Under slice-block a chunk may hold only skipped bytes yet finish ranges: it must still move past them.
    if (need === 0 && this.#period === 0) return;
    const spanStart = Math.max(start, firstOffset) - start;
    if (spanEnd - start - spanStart >= WARM_SPAN_BYTES) {
      // A native sequential pass over the span first (a search for bytes that need not be there): the
      // hardware prefetcher streams it into cache, where the scattered range XORs below then hit. A sender
      // reads ahead on the runtime's I/O thread, so the chunk usually arrives out of this core's caches, and
      // the XORs alone then wait on a cache miss per range: 0.16-0.18 CPU s/GiB in the send path, 0.11-0.12
      // with this pass (best of 4, three A/B pairs on the bench ES); 0.01 s/GiB more when the chunk is cached.
      Buffer.from(chunk.buffer, chunk.byteOffset + spanStart, spanEnd - start - spanStart).indexOf(
        WARM_NEEDLE,
      );
    }
    // One keystream run for the chunk, XORed straight into each range of it: no gathered copy, no view and
    // no allocation per range (most ranges are a few dozen bytes, so per-range overhead is what costs).
    const { ks, at: k0 } = this.#keystreamRun(ksStart, need);
    let k = k0 | 0; // int32 for the JIT, as below: positions arrive as doubles
    for (; i < count; i++) {
      const offset = ranges.offsetAt(i);
      if (offset >= end) break;
      const length = ranges.lengthAt(i);
      const rEnd = offset + length;
      // Offsets inside one chunk fit 32 bits; `| 0` tells the JIT so. The plan's offsets arrive as doubles, and
      // a loop indexed by doubles ran 1.2x slower. A byte loop measured faster here than unaligned 32-bit words
      // through DataView (range and keystream offsets share no alignment): 0.021 against 0.055 s on the bench
      // ES, chunk in cache; shifted Int32Array words were no faster than the byte loop.
      const to = (Math.min(end, rEnd) - start) | 0;
      const from = (Math.max(start, offset) - start) | 0;
      // A range no longer than a crypt run (every range of a cut slice) is encrypted whole under the rule too.
      if (this.#period === 0 || length <= this.#crypt) {
        for (let x = from; x < to; x++, k++) chunk[x]! ^= ks[k]!;
      } else {
        k = this.#xorRule(chunk, ks, { k, from, to, base: (offset - start) | 0 });
      }
      if (rEnd > end) break;
      before += this.#encrypted(length);
    }
    this.#next = i;
    this.#before = before;
  }

  /**
   * XORs keystream from `ks[span.k]` into the crypt runs of one range within chunk indices [from, to); the range
   * starts at chunk index `base` (negative when it began in an earlier chunk). Returns the next keystream index.
   */
  #xorRule(
    chunk: Uint8Array,
    ks: Uint8Array,
    span: { k: number; from: number; to: number; base: number },
  ): number {
    const crypt = this.#crypt;
    const period = this.#period;
    const { to, base } = span;
    let k = span.k;
    let x = span.from;
    while (x < to) {
      const phase = (x - base) % period;
      if (phase >= crypt) {
        x += period - phase;
        continue;
      }
      const runEnd = Math.min(to, x - phase + crypt);
      for (; x < runEnd; x++, k++) chunk[x]! ^= ks[k]!;
    }
    return k;
  }

  /**
   * Keystream bytes [position, position + length) as `ks[at ...]`. Runs are made KEYSTREAM_RUN_BYTES (or
   * `length`, if more) at a time and used up across chunks: a 4 MiB chunk needs only ~16 KiB of keystream at
   * slice-start 64, and a cipher call with its fresh output buffer per chunk had cost more than the AES.
   * Positions only grow, so the run past the last encrypted byte is simply never used.
   */
  #keystreamRun(position: number, length: number): { ks: Uint8Array; at: number } {
    const at = position - this.#runStart;
    if (at >= 0 && at + length <= this.#run.length) return { ks: this.#run, at };
    const run = this.#keystream(position, Math.max(length, KEYSTREAM_RUN_BYTES));
    // A plain Uint8Array view of what the keystream returned (a Buffer): the XOR loop sees one array type.
    this.#run = new Uint8Array(run.buffer, run.byteOffset, run.byteLength);
    this.#runStart = position;
    return { ks: this.#run, at: 0 };
  }

  /**
   * Moves past the next `n` body bytes without having them (a resumed transfer: the receiver holds the body's
   * first bytes already). The keystream is positional, so it is run over a scratch buffer to reach the same
   * state a cipher that saw those bytes has.
   */
  skip(n: number): void {
    const scratch = new Uint8Array(Math.min(n, SKIP_SCRATCH_BYTES));
    for (let left = n; left > 0; ) {
      const k = Math.min(left, scratch.length);
      this.apply(scratch.subarray(0, k));
      left -= k;
    }
  }

  /** Throws ERR_PATTERN_LENGTH unless exactly the body was transformed. */
  finish(): void {
    if (this.#pos !== this.#bodyLength) {
      throw codecError(
        "ERR_PATTERN_LENGTH",
        `Cannot finish pattern: ${this.#pos} of the body's ${this.#bodyLength} bytes came`,
        this.#pos,
      );
    }
  }
}
