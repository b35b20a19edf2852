/** @module Receiver side of pattern header version 5: reads the segments between the body's stretches and decrypts each stretch with its segment's rows, holding one segment at a time. */

import { codecError } from "../codec-error.ts";
import { PatternCipher, type PatternKeystream } from "./pattern-cipher.ts";
import type { PatternHeaderV5 } from "./pattern-header-v5.ts";
import {
  decodePatternSegment,
  PATTERN_SEGMENT_PEEK_BYTES,
  peekPatternSegmentLength,
} from "./pattern-segment.ts";

/**
 * Takes the wire bytes after a version 5 pattern header (segment, stretch, segment, stretch, …; chunks of any
 * size) and returns the stretches' body bytes decrypted IN PLACE, as views of the caller's chunks. A segment is
 * gathered into one buffer of the length its first 8 bytes announce (at most MAX_PATTERN_SEGMENT_BYTES) and
 * dropped once its rows are the cipher's: the table is never whole here.
 */
export class PatternSegmentReader {
  readonly #header: PatternHeaderV5;
  readonly #headerDigest: Uint8Array;
  readonly #keystream: PatternKeystream;
  readonly #bodyFrom: number;
  #cipher: PatternCipher | undefined;
  /** The next segment's number and where its stretch starts. */
  #number = 0;
  #bodyStart = 0;
  /** Body bytes of the current stretch still to come on the wire. */
  #bodyLeft = 0;
  /** The segment being gathered: its first bytes until they say its length, then the whole buffer. */
  #peek = new Uint8Array(PATTERN_SEGMENT_PEEK_BYTES);
  #gathered: Uint8Array | undefined;
  #fill = 0;
  /** Rows and Σ row lengths of the segments so far (the header's totals, checked at the last). */
  #rows = 0;
  #rangeBytes = 0;
  #done = false;

  /**
   * `headerDigest`: the header's last 32 bytes. `bodyFrom`: a resumed part leaves out the body bytes before it
   * (every segment still comes, with the stretches cut to what follows `bodyFrom`).
   */
  constructor(
    header: PatternHeaderV5,
    headerDigest: Uint8Array,
    o: { keystream: PatternKeystream; bodyFrom?: number },
  ) {
    this.#header = header;
    this.#headerDigest = headerDigest;
    this.#keystream = o.keystream;
    this.#bodyFrom = o.bodyFrom ?? 0;
    if (
      !Number.isSafeInteger(this.#bodyFrom) ||
      this.#bodyFrom < 0 ||
      this.#bodyFrom > header.directBodyLength
    )
      throw codecError(
        "ERR_PATTERN_LENGTH",
        `Cannot resume a pattern part at ${this.#bodyFrom}: past its ${header.directBodyLength}-byte body`,
        68,
      );
  }

  /** Reads the next wire bytes; returns the body bytes among them, decrypted. */
  push(chunk: Uint8Array): Uint8Array[] {
    const out: Uint8Array[] = [];
    let at = 0;
    while (at < chunk.length) {
      if (this.#bodyLeft > 0) {
        const n = Math.min(this.#bodyLeft, chunk.length - at);
        // A chunk that is body whole is handed on itself (a receiver releases a DATA frame it gets back).
        const body = at === 0 && n === chunk.length ? chunk : chunk.subarray(at, at + n);
        this.#cipher!.apply(body);
        out.push(body);
        at += n;
        this.#bodyLeft -= n;
        continue;
      }
      if (this.#done)
        throw codecError(
          "ERR_PATTERN_LENGTH",
          `Cannot read pattern part: ${chunk.length - at} bytes follow the ${this.#header.directBodyLength}-byte body`,
          at,
        );
      at = this.#gather(chunk, at);
    }
    return out;
  }

  /** Gathers segment bytes from chunk[at…]; reads the segment once whole. Returns where it stopped. */
  #gather(chunk: Uint8Array, at: number): number {
    if (this.#gathered === undefined) {
      const take = Math.min(PATTERN_SEGMENT_PEEK_BYTES - this.#fill, chunk.length - at);
      this.#peek.set(chunk.subarray(at, at + take), this.#fill);
      this.#fill += take;
      at += take;
      const length = peekPatternSegmentLength(this.#peek.subarray(0, this.#fill), this.#number);
      if (length === undefined) return at;
      this.#gathered = new Uint8Array(length);
      this.#gathered.set(this.#peek, 0);
    }
    const gathered = this.#gathered;
    const take = Math.min(gathered.length - this.#fill, chunk.length - at);
    gathered.set(chunk.subarray(at, at + take), this.#fill);
    this.#fill += take;
    at += take;
    if (this.#fill === gathered.length) {
      this.#gathered = undefined;
      this.#fill = 0;
      this.#segment(gathered);
    }
    return at;
  }

  /** Takes a whole segment: its rows to the cipher, its stretch (less what a resume leaves out) next. */
  #segment(bytes: Uint8Array): void {
    const h = this.#header;
    const seg = decodePatternSegment(bytes, {
      number: this.#number,
      bodyStart: this.#bodyStart,
      bodyLength: h.directBodyLength,
      headerDigest: this.#headerDigest,
    });
    this.#rows += seg.ranges.count;
    this.#rangeBytes += seg.rangeBytes;
    if (this.#rows > h.rangeCount || this.#rangeBytes > h.rangeBytes)
      throw codecError(
        "ERR_PATTERN_LENGTH",
        `Cannot read pattern part: segment ${seg.number} brings the rows past the header's ${h.rangeCount} (${h.rangeBytes} bytes)`,
        0,
      );
    if (this.#cipher === undefined)
      this.#cipher = new PatternCipher(
        { ranges: seg.ranges, scheme: h.scheme },
        h.directBodyLength,
        this.#keystream,
      );
    else this.#cipher.continueWith(seg.ranges);
    const from = Math.max(this.#bodyStart, Math.min(this.#bodyFrom, seg.bodyEnd));
    if (from > this.#bodyStart) this.#cipher.skip(from - this.#bodyStart);
    this.#bodyLeft = seg.bodyEnd - from;
    this.#number++;
    this.#bodyStart = seg.bodyEnd;
    if (seg.bodyEnd === h.directBodyLength) {
      this.#done = true;
      if (this.#rows !== h.rangeCount || this.#rangeBytes !== h.rangeBytes)
        throw codecError(
          "ERR_PATTERN_LENGTH",
          `Cannot read pattern part: the segments hold ${this.#rows} rows (${this.#rangeBytes} bytes), the header says ${h.rangeCount} (${h.rangeBytes})`,
          0,
        );
    }
  }

  /** After the last chunk: throws ERR_PATTERN_TRUNCATED unless the last segment and its stretch have passed. */
  finish(): void {
    if (!this.#done || this.#bodyLeft > 0 || this.#fill > 0)
      throw codecError(
        "ERR_PATTERN_TRUNCATED",
        `Cannot read pattern part: it ended inside segment ${this.#number - (this.#fill > 0 ? 0 : 1)} or the body it covers`,
        0,
      );
    this.#cipher!.finish();
  }
}
