/** @module Applies a pattern keystream to the ranges of a direct body streamed in chunks: encrypts and decrypts alike, in place. */
import { PatternBodyCursor } from "./pattern-body-cursor.ts";
import { type PatternRanges, PatternRangeTable, WINDOW_ROWS } from "./pattern-range-table.ts";
import { blockRule, type PatternScheme, ruleBytes } from "./pattern-scheme.ts";

/**
 * Keystream bytes [position, position + length) of one transfer, as a new array (crypto/keystream.ts makes
 * one). The codec stays free of keys: it only says which keystream bytes it needs.
 */
export type PatternKeystream = (position: number, length: number) => Uint8Array;

/** Keystream made per cipher call: 256 KiB, about sixteen 4 MiB chunks' worth at the default scheme. */
export const KEYSTREAM_RUN_BYTES = 256 * 1024;

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
  #ranges: PatternRangeTable;
  readonly #keystream: PatternKeystream;
  readonly #body: PatternBodyCursor;
  #next = 0;
  /** Σ lengths of ranges before #next. */
  #before = 0;
  /** The decoded window of rows [#wFrom, #wEnd) (readRows()). */
  readonly #rows = new Float64Array(2 * WINDOW_ROWS);
  #wFrom = 0;
  #wEnd = 0;
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
    this.#body = new PatternBodyCursor(bodyLength);
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
    return this.#body.position;
  }

  /**
   * Transforms the next `chunk.length` body bytes in place (the caller's buffer is overwritten: pass one you
   * own). Synchronous: a body of thousands of chunks costs no promise per chunk. Throws ERR_PATTERN_LENGTH
   * past the body's end.
   */
  apply(chunk: Uint8Array): void {
    const start = this.#body.take(chunk.length);
    const end = start + chunk.length;
    const ranges = this.#ranges;
    // #next is the first range not wholly before this chunk: earlier calls moved past every finished one.
    let i = this.#next;
    let before = this.#before;
    const count = ranges.count;
    if (i >= count) return;
    // Rows come decoded in windows (the table stores them as varints): rows[2 (i - wFrom)], its length after.
    const rows = this.#rows;
    let wFrom = this.#wFrom;
    let wEnd = this.#wEnd;
    if (i >= wEnd) {
      wFrom = i;
      wEnd = i + ranges.readRows(i, rows);
    }
    const firstOffset = rows[2 * (i - wFrom)]!;
    if (firstOffset >= end) {
      this.#wFrom = wFrom;
      this.#wEnd = wEnd;
      return;
    }
    const spanStart = Math.max(start, firstOffset) - start;
    if (this.#period === 0 && chunk.length - spanStart >= WARM_SPAN_BYTES) {
      // A native sequential pass over the span first (a search for bytes that need not be there): the
      // hardware prefetcher streams it into cache, where the scattered range XORs below then hit. A sender
      // reads ahead on the runtime's I/O thread, so the chunk usually arrives out of this core's caches, and
      // the XORs alone then wait on a cache miss per range: 0.16-0.18 CPU s/GiB in the send path, 0.11-0.12
      // with this pass (best of 4, three A/B pairs on the bench ES); 0.01 s/GiB more when the chunk is cached.
      // Not under slice-block: its rule XORs 16 bytes in every 160 of a slice, a stride the prefetcher follows
      // by itself, and the pass cost 10 ms per 258 MiB ES more than it saved (cost round 3).
      Buffer.from(chunk.buffer, chunk.byteOffset + spanStart, chunk.length - spanStart).indexOf(WARM_NEEDLE);
    }
    // One walk over the chunk's ranges, XORing keystream straight into each: no gathered copy, no view and no
    // allocation per range (most ranges are a few dozen bytes, so per-range overhead is what costs; a walk
    // first to size the keystream had cost as much as the XORs on a TS, with a range per 16-byte block). The
    // keystream comes in runs of KEYSTREAM_RUN_BYTES, each continuing the last, fetched when one is used up.
    let ks = this.#run;
    let runStart = this.#runStart;
    let runEnd = runStart + ks.length;
    /** Keystream position of the next encrypted byte. */
    let pos = before + this.#encrypted(Math.max(0, start - firstOffset));
    const rule = this.#period !== 0;
    const crypt = this.#crypt;
    for (; i < count; i++) {
      if (i >= wEnd) {
        wFrom = i;
        wEnd = i + ranges.readRows(i, rows);
      }
      const offset = rows[2 * (i - wFrom)]!;
      if (offset >= end) break;
      const length = rows[2 * (i - wFrom) + 1]!;
      const rEnd = offset + length;
      // Offsets inside one chunk fit 32 bits; `| 0` tells the JIT so. The plan's offsets arrive as doubles, and
      // a loop indexed by doubles ran 1.2x slower. A byte loop measured faster here than unaligned 32-bit words
      // through DataView (range and keystream offsets share no alignment): 0.021 against 0.055 s on the bench
      // ES, chunk in cache; shifted Int32Array words were no faster than the byte loop.
      const to = (Math.min(end, rEnd) - start) | 0;
      const from = (Math.max(start, offset) - start) | 0;
      // A range no longer than a crypt run (every range of a cut slice) is encrypted whole under the rule too.
      const whole = !rule || length <= crypt;
      const need = whole
        ? to - from
        : this.#encrypted(to + start - offset) - this.#encrypted(from + start - offset);
      if (pos + need > runEnd) {
        ks = this.#keystreamRun(pos, need);
        runStart = pos;
        runEnd = pos + ks.length;
      }
      let k = (pos - runStart) | 0;
      if (whole) {
        for (let x = from; x < to; x++, k++) chunk[x]! ^= ks[k]!;
      } else if (need > 0) {
        this.#xorRule(chunk, ks, { k, from, to, base: (offset - start) | 0 });
      }
      pos += need;
      if (rEnd > end) break;
      before += whole ? length : this.#encrypted(length);
    }
    this.#next = i;
    this.#before = before;
    this.#wFrom = wFrom;
    this.#wEnd = wEnd;
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
   * A new keystream run from `position`, at least `length` bytes, made KEYSTREAM_RUN_BYTES (or `length`, if
   * more) at a time and used up across chunks: a 4 MiB chunk needs only ~16 KiB of keystream at slice-start 64,
   * and a cipher call with its fresh output buffer per chunk had cost more than the AES. Positions only grow,
   * so a run's tail past the last encrypted byte is simply never used, and each call continues the stream.
   */
  #keystreamRun(position: number, length: number): Uint8Array {
    const run = this.#keystream(position, Math.max(length, KEYSTREAM_RUN_BYTES));
    // A plain Uint8Array view of what the keystream returned (a Buffer): the XOR loop sees one array type.
    this.#run = new Uint8Array(run.buffer, run.byteOffset, run.byteLength);
    this.#runStart = position;
    return this.#run;
  }

  /**
   * Goes on with the next rows of a plan that comes in segments (pattern header version 5): the keystream and
   * the body position continue where the last rows left them. Every row before must have passed (RangeError):
   * a segment's rows lie inside its stretch of the body, which the reader passes whole before the next.
   */
  continueWith(ranges: PatternRanges): void {
    if (this.#next < this.#ranges.count)
      throw new RangeError(
        `Cannot continue a pattern cipher: ${this.#ranges.count - this.#next} rows of the last segment have not passed`,
      );
    this.#ranges = PatternRangeTable.from(ranges);
    this.#next = 0;
    this.#wFrom = 0;
    this.#wEnd = 0;
  }

  /** Moves past the next `n` body bytes without having them (a resumed transfer): PatternBodyCursor.skip(). */
  skip(n: number): void {
    PatternBodyCursor.skip(n, (c) => this.apply(c));
  }

  /** Throws ERR_PATTERN_LENGTH unless exactly the body was transformed. */
  finish(): void {
    this.#body.finish();
  }
}
