/** @module Sender side of pattern mode: turns a direct part stream into its pattern form (pattern header after the split header, ranges encrypted). */

import { createHash } from "node:crypto";
import { codecError } from "../codec-error.ts";
import { decodeSplitHeader, peekSplitHeaderLength, type SplitHeader } from "../split/split-format.ts";
import { CbcsEsCipher } from "./cbcs-es-cipher.ts";
import { type CbcsBlockCipher, CbcsPatternCipher } from "./cbcs-pattern-cipher.ts";
import { EsPatternCipher } from "./es-pattern-cipher.ts";
import type { EsPatternPlan } from "./es-pattern-plan.ts";
import type { HeaderSpill } from "./header-spill.ts";
import { PatternCipher, type PatternKeystream } from "./pattern-cipher.ts";
import {
  checkPatternRanges,
  PATTERN_DIGEST_BYTES,
  PATTERN_FIXED_BYTES,
  PATTERN_VERSION_SEGMENTED,
  patternHeaderVersionsOf,
} from "./pattern-header.ts";
import { encodePatternHeaderPieces, rebindPatternHeader } from "./pattern-header-encoder.ts";
import {
  encodedRunsOfHeaderV3,
  encodePatternHeaderV3,
  runsBodyEnd,
  runVarintsAtV3,
  writeSpilledPatternHeaderV3,
} from "./pattern-header-v3.ts";
import { encodePatternHeaderV5, PATTERN_HEADER_V5_BYTES } from "./pattern-header-v5.ts";
import { type PatternRanges, PatternRangeTable } from "./pattern-range-table.ts";
import type { PatternScheme } from "./pattern-scheme.ts";
import { PatternSegmentWriter } from "./pattern-segment-writer.ts";
import { type EncodedRuns, RUN_FIELDS } from "./run-window.ts";
import { SPILL_WINDOW_BYTES } from "./spilled-varint-reader.ts";
import type { StoredRuns } from "./stored-runs.ts";

/**
 * Takes the plain direct part exactly as split writes it (split header, then body; chunks of any size) and
 * returns the bytes to send: the split header unchanged, the pattern header, then the body with the plan's
 * ranges encrypted in place; in version 5 each segment of the table goes just ahead of the body stretch it
 * covers. The output is `addedBytes` longer than the input, nothing else changes length.
 */
export class PatternDirectEncoder {
  readonly #ranges: PatternRangeTable;
  readonly #salt: Uint8Array;
  /**
   * Version 3/4: the header with a zero hash and a body ending at the runs' end, until the split header comes;
   * then dropped. Versions 1/2 keep no header: it is made from the range table when the split header comes, as
   * pieces that are the table's own bytes (the table grows with the recording, issue 14).
   */
  #header: Uint8Array | undefined;
  /**
   * Version 3/4 with a `headerSpill`: the header is in the spill but for its fixed head (and 32 spare bytes,
   * rebindPatternHeader()'s digest of the head alone); sent from the spill a window at a time (pushPieces()).
   */
  readonly #spilled: { spill: HeaderSpill; head: Uint8Array; length: number } | undefined;
  readonly #tableEnd: number;
  readonly #keys: PatternKeystream | { cbcs: CbcsBlockCipher };
  readonly #scheme: PatternScheme;
  readonly #chainStarts: readonly number[];
  /**
   * A plan in ES coordinates: header version 3 and EsPatternCipher (slice-block), or 4 and CbcsEsCipher (cbcs).
   * Its runs are the header's run varints, walked a window at a time as the receiver walks them, not the
   * planner's Float64Array (issue 14).
   */
  readonly #es: (Omit<EsPatternPlan, "runs"> & { runs: EncodedRuns }) | undefined;
  #head: Uint8Array = new Uint8Array(0);
  #split: SplitHeader | undefined;
  #cipher: PatternCipher | CbcsPatternCipher | EsPatternCipher | CbcsEsCipher | undefined;
  /** The header version written: the plan's preferred (patternHeaderVersionsOf()) unless the caller chose. */
  readonly version: number;
  /** Version 5: the segments, once the split header has come; and the body position and current stretch's end. */
  #segments: PatternSegmentWriter | undefined;
  #position = 0;
  #stretchEnd = 0;
  /** Body bytes still to leave out of the output (leaveOut(): a resumed send). */
  #leaveOut = 0;
  /** Version 5: Σ range lengths, for its header. */
  #rangeBytes = 0;
  /** Bytes the pattern header (and, in version 5, every segment) adds to the part. */
  readonly addedBytes: number;

  /**
   * `salt`: 16 CSPRNG bytes, the same given to makePatternKeystream (or makeCbcsTransform, for the cbcs scheme)
   * for this transfer. `keys`: the keystream, or for cbcs the block cipher.
   */
  constructor(
    plan: {
      scheme: PatternScheme;
      ranges: PatternRanges;
      chainStarts?: readonly number[];
      es?: EsPatternPlan | undefined;
      /** One of patternHeaderVersionsOf(plan); its first by default. */
      version?: number;
      /**
       * The caller gives up `es.runs`: their buffer is freed (transferred away) once the header holds them, and
       * the plan cannot make another encoder (a TypeError). A send's plan makes one encoder; its runs were 16 MB
       * of a 4.4 GB TS held to the end of the send.
       */
      handOverRuns?: boolean;
      /**
       * Where a version 3/4 header is written at once and sent from, and its runs read back from by the cipher
       * (a send's plan spill, firmware/send/plan-spill-file.ts): the sender then holds none of it (15.3 MB at
       * 4.38 GB of TS, issue 14). The caller closes it after the send. The bytes sent are the same.
       */
      headerSpill?: () => HeaderSpill;
    },
    salt: Uint8Array,
    keys: PatternKeystream | { cbcs: CbcsBlockCipher },
  ) {
    this.#ranges = PatternRangeTable.from(plan.ranges);
    if ((plan.scheme.kind === "cbcs") !== (typeof keys !== "function"))
      throw new TypeError(
        "Cannot apply pattern: the cbcs scheme takes a block cipher, the others a keystream",
      );
    this.#keys = keys;
    this.#scheme = plan.scheme;
    this.#chainStarts = plan.chainStarts ?? [];
    this.#salt = salt;
    const versions = patternHeaderVersionsOf(plan);
    this.version = plan.version ?? versions[0]!;
    if (!versions.includes(this.version))
      throw new RangeError(
        `Cannot apply pattern: this plan is written in version ${versions.join(" or ")}, not ${this.version}`,
      );
    // The plan is checked now, by encoding its header: a bad plan fails here rather than mid-stream. The header
    // depends on the split header only through two fields, written when that arrives.
    const es = plan.es;
    if (es !== undefined) {
      if (es.runs instanceof Float64Array ? es.runs.length < RUN_FIELDS * es.runCount : es.runs.released)
        throw new TypeError("Cannot apply pattern: the plan's runs were handed over to an earlier encoder");
      this.#tableEnd = runsBodyEnd(es);
      const fields = {
        plan: es,
        salt,
        originalSha256: new Uint8Array(32),
        directBodyLength: Math.max(this.#tableEnd, es.encryptedBytes),
      };
      if (plan.headerSpill !== undefined) {
        const spill = plan.headerSpill();
        const { head, length } = writeSpilledPatternHeaderV3(fields, (b) => spill.write(b));
        this.#header = undefined;
        const bound = new Uint8Array(PATTERN_FIXED_BYTES + PATTERN_DIGEST_BYTES);
        bound.set(head);
        this.#spilled = { spill, head: bound, length };
        if (plan.handOverRuns === true) handOver(es.runs);
        const runs = {
          spill,
          from: runVarintsAtV3(es),
          to: length - PATTERN_DIGEST_BYTES,
          count: es.runCount,
        };
        this.#es = { ...es, runs };
      } else {
        this.#header = encodePatternHeaderV3(fields);
        this.#spilled = undefined;
        // Freed before the run varints are copied out, so the three are never resident at once.
        if (plan.handOverRuns === true) handOver(es.runs);
        this.#es = { ...es, runs: encodedRunsOfHeaderV3(this.#header, es) };
      }
    } else {
      this.#tableEnd = this.#ranges.end();
      this.#header = undefined;
      this.#spilled = undefined;
      this.#es = undefined;
    }
    if (this.version === PATTERN_VERSION_SEGMENTED) {
      // The ranges are checked as version 1's header checks them (the same table), then sized as segments.
      this.#rangeBytes = checkPatternRanges(this.#ranges, this.#tableEnd);
      encodePatternHeaderV5({
        scheme: this.#scheme,
        salt,
        originalSha256: new Uint8Array(32),
        directBodyLength: Math.max(this.#tableEnd, this.#rangeBytes),
        rangeCount: this.#ranges.count,
        rangeBytes: this.#rangeBytes,
      });
      this.addedBytes = PATTERN_HEADER_V5_BYTES + PatternSegmentWriter.totalBytes(this.#ranges);
      return;
    }
    this.addedBytes =
      this.#header?.length ??
      this.#spilled?.length ??
      this.#headerPieces(new Uint8Array(32), this.#tableEnd).reduce((n, p) => n + p.length, 0);
  }

  /**
   * Leaves the first `n` body bytes out of the output (a resumed send: the receiver holds them and its decoder
   * is told the same `bodyFrom`); they are still encrypted, since the keystream is positional. The headers and
   * every version 5 segment still go. Call before the first body byte.
   */
  leaveOut(n: number): void {
    if (!Number.isSafeInteger(n) || n < 0)
      throw new RangeError(`Cannot leave out ${n} bytes: not a byte count`);
    this.#leaveOut = n;
  }

  /** The version 5 header for this split header's two fields; the segments are cut with its digest. */
  #segmentedHeader(split: SplitHeader): Uint8Array {
    const header = encodePatternHeaderV5({
      scheme: this.#scheme,
      salt: this.#salt,
      originalSha256: split.sha256,
      directBodyLength: split.bodyLength,
      rangeCount: this.#ranges.count,
      rangeBytes: this.#rangeBytes,
    });
    this.#segments = new PatternSegmentWriter(
      this.#ranges,
      split.bodyLength,
      header.subarray(PATTERN_FIXED_BYTES, PATTERN_FIXED_BYTES + PATTERN_DIGEST_BYTES),
    );
    return header;
  }

  /** The pattern header for this split header's two fields, as pieces (see #header). */
  #headerPieces(originalSha256: Uint8Array, directBodyLength: number): Uint8Array[] {
    if (this.#header !== undefined)
      // In place: push() drops #header once it has these bytes.
      return [
        rebindPatternHeader(
          this.#header,
          { originalSha256, directBodyLength, tableEnd: this.#tableEnd },
          { inPlace: true },
        ),
      ];
    return encodePatternHeaderPieces({
      scheme: this.#scheme,
      salt: this.#salt,
      originalSha256,
      directBodyLength,
      ranges: this.#ranges,
      ...(this.#scheme.kind === "cbcs" ? { chainStarts: this.#chainStarts } : {}),
    });
  }

  /** The split header of the part, once it has passed. */
  get splitHeader(): SplitHeader | undefined {
    return this.#split;
  }

  /** Takes the next bytes of the plain direct part; body bytes are encrypted IN PLACE in `chunk`. */
  async push(chunk: Uint8Array): Promise<Uint8Array[]> {
    return [...this.pushPieces(chunk)];
  }

  /**
   * push(), its output given as it is iterated: a spilled header (`headerSpill`) is read from its spill a window
   * at a time as the caller sends each, and its digest made on the way, so it is never whole in memory. The
   * caller must take every piece, in order, before its next call. `o.reuse`: the caller is done with each piece
   * before it takes the next (it copies or sends it), so a spilled header's windows are one reused buffer: a
   * fresh 1 MiB array per window left the whole header (15.3 MB at 4.38 GB of TS) as garbage at the send's
   * start, the sender's peak (issue 14).
   */
  pushPieces(chunk: Uint8Array, o: { reuse?: boolean } = {}): Iterable<Uint8Array> {
    if (this.#cipher !== undefined) return this.#apply(chunk);
    const joined = new Uint8Array(this.#head.length + chunk.length);
    joined.set(this.#head, 0);
    joined.set(chunk, this.#head.length);
    const length = peekSplitHeaderLength(joined);
    if (length === undefined || joined.length < length) {
      this.#head = joined;
      return [];
    }
    const split = decodeSplitHeader(joined.subarray(0, length));
    if (split.part !== "direct") {
      throw codecError("ERR_PATTERN_PAIR", "Cannot apply pattern: the part is not a direct part", 9);
    }
    this.#split = split;
    this.#head = new Uint8Array(0);
    const header: Iterable<Uint8Array> =
      this.version === PATTERN_VERSION_SEGMENTED
        ? [this.#segmentedHeader(split)]
        : this.#spilled !== undefined
          ? this.#spilledHeader(split.sha256, split.bodyLength, o.reuse === true)
          : this.#headerPieces(split.sha256, split.bodyLength);
    this.#header = undefined;
    const keys = this.#keys;
    const es = this.#es;
    this.#cipher =
      es !== undefined && es.scheme.kind === "cbcs" && typeof keys !== "function"
        ? new CbcsEsCipher({ ...es, scheme: es.scheme }, split.bodyLength, keys.cbcs)
        : es !== undefined && typeof keys === "function"
          ? new EsPatternCipher(es, split.bodyLength, keys)
          : typeof keys === "function"
            ? new PatternCipher(
                // Version 5: each segment's rows are given as it goes (#apply), so the plan is read once, in order.
                { ranges: this.#segments === undefined ? this.#ranges : [], scheme: this.#scheme },
                split.bodyLength,
                keys,
              )
            : new CbcsPatternCipher(
                { ranges: this.#ranges, chainStarts: this.#chainStarts },
                split.bodyLength,
                keys.cbcs,
              );
    const body = chunk.subarray(length - (joined.length - chunk.length));
    return this.#then(joined.subarray(0, length), header, body);
  }

  /** The split header, the pattern header's pieces as they are taken, then the first body bytes. */
  *#then(split: Uint8Array, header: Iterable<Uint8Array>, body: Uint8Array): Generator<Uint8Array> {
    yield split;
    yield* header;
    yield* this.#apply(body);
  }

  /**
   * The spilled header bound to the split header (the checks and fields of rebindPatternHeader(), applied to the
   * fixed head; its digest there is of the head alone and not sent), then read back and hashed a window at a time.
   */
  #spilledHeader(originalSha256: Uint8Array, directBodyLength: number, reuse: boolean): Iterable<Uint8Array> {
    const { spill, head, length } = this.#spilled!;
    rebindPatternHeader(
      head,
      { originalSha256, directBodyLength, tableEnd: this.#tableEnd },
      { inPlace: true },
    );
    return (function* () {
      const digestAt = length - PATTERN_DIGEST_BYTES;
      const hash = createHash("sha256");
      const fixed = head.slice(0, PATTERN_FIXED_BYTES);
      hash.update(fixed);
      yield fixed;
      const shared = reuse
        ? new Uint8Array(Math.min(SPILL_WINDOW_BYTES * 16, Math.max(0, digestAt - PATTERN_FIXED_BYTES)))
        : undefined;
      for (let at = PATTERN_FIXED_BYTES; at < digestAt; ) {
        // A fresh array per window unless `reuse`: a caller (push()) may hold every piece.
        const n = Math.min(SPILL_WINDOW_BYTES * 16, digestAt - at);
        const window = shared === undefined ? new Uint8Array(n) : shared.subarray(0, n);
        spill.read(at, window);
        hash.update(window);
        at += window.length;
        yield window;
      }
      yield new Uint8Array(hash.digest());
    })();
  }

  /**
   * push() of consecutive chunks (a read's direct pieces) at once. cbcs in ES coordinates hands them to its
   * cipher together, whose calls then take a whole read's chains (CbcsEsCipher.pushMany()); the others push
   * each chunk in turn. Returns what the pushes would, in order.
   */
  async pushMany(chunks: readonly Uint8Array[]): Promise<Uint8Array[]> {
    const cipher = this.#cipher;
    if (cipher instanceof CbcsEsCipher && this.#segments === undefined)
      return this.#leave(cipher.pushMany(chunks));
    const out: Uint8Array[] = [];
    for (const chunk of chunks) for (const o of await this.push(chunk)) out.push(o);
    return out;
  }

  /** Body bytes: encrypted, version 5's segments put ahead of their stretches, a resumed prefix left out. */
  #apply(chunk: Uint8Array): Uint8Array[] {
    const segments = this.#segments;
    if (segments === undefined) return this.#leave(this.#encrypt(chunk));
    const out: Uint8Array[] = [];
    for (;;) {
      if (segments.nextAt === this.#position) {
        const next = segments.next();
        (this.#cipher as PatternCipher).continueWith(next.ranges);
        out.push(next.bytes);
        this.#stretchEnd = next.bodyEnd;
      }
      if (chunk.length === 0) return out;
      const n = Math.min(chunk.length, this.#stretchEnd - this.#position);
      // Past the last stretch: the cipher refuses bytes beyond the body (ERR_PATTERN_LENGTH).
      if (n === 0) return [...out, ...this.#encrypt(chunk)];
      out.push(...this.#leave(this.#encrypt(chunk.subarray(0, n))));
      this.#position += n;
      chunk = chunk.subarray(n);
    }
  }

  #encrypt(chunk: Uint8Array): Uint8Array[] {
    const cipher = this.#cipher!;
    if (cipher instanceof CbcsPatternCipher || cipher instanceof CbcsEsCipher) return cipher.push(chunk);
    cipher.apply(chunk);
    return chunk.length > 0 ? [chunk] : [];
  }

  /** What of these body pieces follows the left-out prefix. */
  #leave(pieces: Uint8Array[]): Uint8Array[] {
    if (this.#leaveOut === 0) return pieces;
    const out: Uint8Array[] = [];
    for (const p of pieces) {
      const n = Math.min(this.#leaveOut, p.length);
      this.#leaveOut -= n;
      if (n < p.length) out.push(p.subarray(n));
    }
    return out;
  }

  /** After the last chunk: throws ERR_PATTERN_TRUNCATED / ERR_PATTERN_LENGTH unless the whole part passed. */
  finish(): void {
    if (this.#cipher === undefined) {
      throw codecError(
        "ERR_PATTERN_TRUNCATED",
        "Cannot apply pattern: the part ended inside its split header",
        0,
      );
    }
    this.#cipher.finish();
  }
}

/** Frees a plan's runs the header now holds: the array's buffer, or stored runs' tail (their blocks go with the plan's files). */
function handOver(runs: Float64Array | StoredRuns): void {
  if (runs instanceof Float64Array) (runs.buffer as ArrayBuffer).transfer?.(0);
  else runs.release();
}
