/** @module Finds the pattern ranges of a recording's direct part: the chosen bytes of every P/B slice, in direct-body offsets. */

import { codecError } from "../codec-error.ts";
import { RecordingIndexer } from "../container/recording-indexer.ts";
import type { VideoObserver } from "../container/video-observer.ts";
import { isSliceStartCode, START_CODE_BYTES } from "../mpeg-video/start-codes.ts";
import type { PictureRecord, RecordingIndex } from "../recording-index.ts";
import type { EsPatternPlan } from "./es-pattern-plan.ts";
import { MAX_PATTERN_HEADER_BYTES, patternHeaderLength } from "./pattern-header.ts";
import { PatternRangeTable, WINDOW_ROWS } from "./pattern-range-table.ts";
import {
  blockRule,
  checkPatternScheme,
  PATTERN_BLOCK_BYTES,
  type PatternScheme,
  ruleBytes,
  schemeRanges,
} from "./pattern-scheme.ts";
import type { RangeBlockStore } from "./stored-blocks.ts";

/** What the planner found: the ranges to encrypt, in offsets of the direct part's body. */
export interface PatternPlan {
  scheme: PatternScheme;
  /** Sorted, disjoint, non-adjacent (coalesced), non-empty ranges of the direct body. */
  ranges: PatternRangeTable;
  /** Bytes encrypted: Σ range lengths, or for slice-block Σ of its rule's bytes in each range. */
  encryptedBytes: number;
  /**
   * False when the recording's video is not MPEG-1/2 (H.264, MP4, unknown): slices are not scanned there, the
   * plan is empty and pattern mode adds nothing; the sender should then fall back to whole-file encryption.
   */
  supported: boolean;
  /** cbcs (H.264) only: the first block of each CBC chain (codec/pattern/h264-pattern-planner.ts). */
  chainStarts?: readonly number[];
  /**
   * slice-block in a PS or TS, or cbcs: the plan in ES coordinates (pattern header version 3 or 4,
   * es-pattern-plan.ts), sent instead of `ranges` and `chainStarts` (then empty); the same bytes are encrypted
   * the same way.
   */
  es?: EsPatternPlan;
}

/** Rows the pending pieces start with; they grow by doubling but stay near two pictures' slices. */
const PENDING_ROWS = 1024;

/**
 * Notes, for every slice of the recording's MPEG-1/2 video, the file bytes the scheme would encrypt, tagged
 * with the slice's ES offset. It rides on a RecordingIndexer's scan (`PatternPlanner.withIndexer`): the
 * indexer reports every start code and maps ES bytes back to the file bytes carrying them (a 16-byte slice
 * start may straddle two TS packets: it becomes two pieces), so planning costs no demux and no scan of its
 * own. `finish(index)` keeps the pieces inside P/B/D pictures and outside the protected ranges, and converts
 * them to direct-body offsets.
 *
 * Pass 1 keeps only pieces that can end up in the plan: a piece waits in a small pending table, tagged with its
 * slice's ES offset, until the indexer has finalized the picture holding that slice; then it is dropped (I
 * picture, or outside every picture) or kept as (file offset, length) without its tag. The pending table
 * stays near two pictures' slices; the kept table holds the P/B pieces only.
 */
export class PatternPlanner implements VideoObserver {
  readonly #scheme: PatternScheme;
  #indexer: RecordingIndexer | undefined;
  /** Made by the planner itself (standalone push()), not shared with a caller. */
  #ownIndexer = false;
  /** ES offset where the open slice's data begins (after its start code), or -1. */
  #sliceData = -1;
  #sliceCode = -1;
  /**
   * Pieces of P/B/D slices (file offset, length), in ES order; the protected ranges are clipped in finish().
   * Pieces are ranges too: they live in the same block table as the plan's ranges, which grows without copying.
   */
  readonly #pieces: PatternRangeTable;
  /** Where each of the planner's tables keeps its full blocks (none: in memory). */
  readonly #store: (() => RangeBlockStore) | undefined;
  /** Pieces whose picture is not yet finalized: rows of (slice ES offset, file offset, length), in ES order. */
  #pending = new Float64Array(3 * PENDING_ROWS);
  #pendingRows = 0;
  #pendingPeak = 0;
  /**
   * Final pictures not yet used to settle pending pieces (VideoObserver.picture): the indexer forgets them, and
   * this list is emptied at every settle, so pass 1 holds no picture list that grows with the recording.
   */
  readonly #pictures: PictureRecord[] = [];
  #finished = false;
  readonly #emit = (file: number, length: number) => this.#pend(this.#sliceCode, file, length);

  /**
   * A planner with an indexer of its own: push() the recording, then finish(index). It indexes the bytes a
   * second time; a sender that indexes anyway should use withIndexer().
   */
  /** Largest pattern header the plan may need (MAX_PATTERN_HEADER_BYTES unless a test lowers it). */
  readonly #maxHeaderBytes: number;

  /**
   * `store`: makes the block store each of the planner's tables (its pieces, then the plan) keeps its full blocks
   * in, so neither is whole in memory (a sender's temp file, issue 14); without it they stay in memory.
   */
  constructor(
    scheme: PatternScheme,
    options: { maxHeaderBytes?: number; store?: () => RangeBlockStore } = {},
  ) {
    checkPatternScheme(scheme);
    this.#scheme = scheme;
    this.#maxHeaderBytes = options.maxHeaderBytes ?? MAX_PATTERN_HEADER_BYTES;
    this.#store = options.store;
    this.#pieces = new PatternRangeTable({ store: options.store?.() });
  }

  /** An indexer and a planner that rides on its scan: push the recording into `indexer` only. */
  static withIndexer(scheme: PatternScheme): { indexer: RecordingIndexer; planner: PatternPlanner } {
    const planner = new PatternPlanner(scheme);
    const indexer = new RecordingIndexer({ videoObserver: planner });
    planner.#indexer = indexer;
    return { indexer, planner };
  }

  /** Rides on `indexer`, which a caller made with an observer that forwards to this planner (ridingPatternPlanners). */
  attach(indexer: RecordingIndexer): void {
    if (this.#indexer !== undefined) throw new TypeError("Cannot attach a PatternPlanner twice");
    this.#indexer = indexer;
  }

  /** Takes the next bytes of the original recording (standalone planner only). */
  push(chunk: Uint8Array): void {
    if (this.#indexer === undefined) {
      this.#indexer = new RecordingIndexer({ videoObserver: this });
      this.#ownIndexer = true;
    }
    if (!this.#ownIndexer)
      throw new TypeError("Cannot push to a PatternPlanner made by withIndexer(): push to its indexer");
    this.#indexer.push(chunk);
  }

  startCode(code: number, esOffset: number): void {
    this.#closeSlice(esOffset);
    if (isSliceStartCode(code)) {
      this.#sliceData = esOffset + START_CODE_BYTES;
      this.#sliceCode = esOffset;
    }
  }

  /** A final picture: the pending pieces before its end are decided now (#settle). */
  picture(p: PictureRecord): void {
    this.#pictures.push(p);
    this.#settle(false);
  }

  /** Most pieces ever pending at once: stays near two pictures' slices however long the recording (for tests). */
  get pendingPeak(): number {
    return this.#pendingPeak;
  }

  /** Pieces kept for the plan so far (P/B/D slices only, before clipping the protected ranges). */
  get keptPieces(): number {
    return this.#pieces.count;
  }

  end(esLength: number): void {
    this.#closeSlice(esLength);
  }

  /**
   * After the last chunk: the plan for this recording, given its index (from the same bytes). Throws a
   * RangeError when the index describes a recording of another container than the bytes indexed, and a
   * TypeError when called again (the pieces are given back as the plan is made).
   */
  finish(index: RecordingIndex): PatternPlan {
    if (this.#finished) throw new TypeError("Cannot finish a PatternPlanner twice");
    this.#finished = true;
    this.#indexer ??= new RecordingIndexer({ videoObserver: this });
    // Finishes the indexer if its owner has not yet: the last slice closes at the end of the video.
    const own = this.#indexer.result();
    if (index.container !== own.container) {
      throw new RangeError(
        `Cannot plan pattern ranges: the index is of a ${index.container} recording, the bytes are ${own.container}`,
      );
    }
    const supported =
      (index.format === "mpeg1" || index.format === "mpeg2") &&
      (own.format === "mpeg1" || own.format === "mpeg2") &&
      own.container !== "mp4";
    if (!supported)
      return { scheme: this.#scheme, ranges: new PatternRangeTable(), encryptedBytes: 0, supported };
    // The indexer has finished (result()): every picture has come, the last ones still to settle against.
    this.#settle(true);
    const selected = this.#select(index);
    // Said here, before any byte is sent, rather than by the encoder mid-send: a block scheme lists a range per
    // 160 bytes of slice data cut by packet headers (about 18 MB of header per GiB of TS), so a TS of a few GiB
    // outgrows what a receiver buffers. The sender then chooses another protection.
    const headerLength = patternHeaderLength(selected.ranges);
    if (headerLength > this.#maxHeaderBytes) {
      throw codecError(
        "ERR_PATTERN_HEADER_LENGTH",
        `Cannot plan pattern ranges: ${selected.ranges.count} ranges need a ${headerLength}-byte header, over the ${this.#maxHeaderBytes}-byte limit`,
        0,
      );
    }
    return { scheme: this.#scheme, ...selected, supported };
  }

  /** The open slice's data ends at `end` (the next start code's prefix): note the scheme's pieces of it. */
  #closeSlice(end: number): void {
    const start = this.#sliceData;
    if (start < 0) return;
    this.#sliceData = -1;
    const s = this.#scheme;
    const indexer = this.#indexer!;
    // The default scheme is one piece per slice: no callback on the path run once per slice.
    if (s.kind === "slice-start") {
      const len = Math.min(s.bytes, end - start);
      if (len <= 0) return;
      // Most slice starts lie inside one packet's payload (always, in an ES): one lookup, no callback.
      const file = indexer.esToFileContiguous(start, len);
      if (file >= 0) this.#pend(this.#sliceCode, file, len);
      else indexer.esToFile(start, len, this.#emit);
    } else if (s.kind === "slice-block") {
      // One range for a slice lying whole in one stretch of the file (always, in an ES): the cipher applies the
      // rule from its first byte. A slice cut by packet headers (TS, PS) gets its encrypted blocks listed one by
      // one instead, each no longer than a crypt run, so the rule (which restarts at every range) encrypts them
      // whole: restarting it at every packet's piece would encrypt 17 % of the slice, not 10 %.
      const file = indexer.esToFileContiguous(start, end - start);
      if (file >= 0) this.#pend(this.#sliceCode, file, end - start);
      else {
        // One walk of the slice's units, not a lookup per block.
        const run = s.crypt * PATTERN_BLOCK_BYTES;
        const period = (s.crypt + s.skip) * PATTERN_BLOCK_BYTES;
        indexer.patternToFile(start, end, run, period, this.#emit);
      }
    } else {
      schemeRanges(s, start, end, (es, len) => {
        if (len > 0) indexer.esToFile(es, len, this.#emit);
      });
    }
  }

  #pend(tag: number, file: number, length: number): void {
    let at = 3 * this.#pendingRows;
    if (at === this.#pending.length) {
      const grown = new Float64Array(2 * this.#pending.length);
      grown.set(this.#pending);
      this.#pending = grown;
    }
    const rows = this.#pending;
    rows[at++] = tag;
    rows[at++] = file;
    rows[at] = length;
    if (++this.#pendingRows > this.#pendingPeak) this.#pendingPeak = this.#pendingRows;
  }

  /**
   * Decides the pending pieces whose picture is final: those tagged before the end of the last finalized
   * picture (no later picture can start at or before them), or all of them when `all` (the video has ended).
   * A piece stays when the last picture starting at or before its tag is a P/B/D picture that contains it.
   */
  #settle(all: boolean): void {
    const pics = this.#pictures;
    const last = pics[pics.length - 1];
    const limit = all ? Infinity : last === undefined ? -Infinity : last.offset + last.length;
    const rows = this.#pending;
    const n = 3 * this.#pendingRows;
    let p = 0;
    let k = 0;
    // The pieces of one slice share its tag, and so the verdict: decided once per slice (a block scheme on a
    // TS has a piece per 160 bytes of slice data).
    let lastTag = Number.NaN;
    let keep = false;
    for (; k < n; k += 3) {
      const tag = rows[k]!;
      if (tag >= limit) break;
      if (tag !== lastTag) {
        lastTag = tag;
        while (p + 1 < pics.length && pics[p + 1]!.offset <= tag) p++;
        const pic = pics[p];
        keep = !(pic === undefined || pic.type === "I" || tag < pic.offset || tag >= pic.offset + pic.length);
      }
      if (keep) this.#pieces.push(rows[k + 1]!, rows[k + 2]!);
    }
    // The pieces still pending start at or after `limit`, the end of the last picture here: no picture here can
    // hold one (pictures do not overlap), so none is needed again.
    pics.length = 0;
    if (k > 0) {
      rows.copyWithin(0, k, n);
      this.#pendingRows = (n - k) / 3;
    }
  }

  /** Moves the kept pieces to direct-body offsets, clipping the protected ranges out of them. */
  #select(index: RecordingIndex): { ranges: PatternRangeTable; encryptedBytes: number } {
    const prot = index.protectedRanges;
    const out = new PatternRangeTable({ store: this.#store?.() });
    let encryptedBytes = 0;
    // slice-block lists spans: what it encrypts is its rule applied to each (coalesced) range, counted as each
    // range is listed.
    const rule = blockRule(this.#scheme);
    let ruled = 0;
    const list = (offset: number, length: number) => {
      out.push(offset, length);
      if (rule !== undefined) ruled += ruleBytes(rule, length);
    };
    let r = 0;
    let protectedBefore = 0;
    // The open range, extended while pieces touch it, goes into the table when one does not: one row per
    // coalesced range, none per piece. openLength 0: none open.
    let openOffset = 0;
    let openLength = 0;
    const emit = (fileOffset: number, length: number) => {
      const offset = fileOffset - protectedBefore;
      if (openLength > 0 && openOffset + openLength === offset) openLength += length;
      else {
        if (openLength > 0) list(openOffset, openLength);
        openOffset = offset;
        openLength = length;
      }
      encryptedBytes += length;
    };
    const pieces = this.#pieces;
    const count = pieces.count;
    const rows = new Float64Array(2 * WINDOW_ROWS);
    let wFrom = 0;
    let wEnd = 0;
    for (let i = 0; i < count; i++) {
      if (i === wEnd) {
        wFrom = i;
        wEnd = i + pieces.readRows(i, rows);
        // The pieces read are not needed again: their blocks go back as the plan's own fill up, so the two
        // tables are not both whole at the end of pass 1 (~3.3 MB each a GiB of SD video, issue 14).
        pieces.releaseBefore(wFrom);
      }
      const start = rows[2 * (i - wFrom)]!;
      const fileEnd = start + rows[2 * (i - wFrom) + 1]!;
      while (r < prot.length && prot[r]!.offset + prot[r]!.length <= start) {
        protectedBefore += prot[r]!.length;
        r++;
      }
      const next = prot[r];
      if (next === undefined || fileEnd <= next.offset) {
        // The usual piece, wholly before the next protected range: emit() inlined, as a block scheme on a TS
        // comes here once per 160 bytes of slice data.
        const offset = start - protectedBefore;
        const length = fileEnd - start;
        if (openLength > 0 && openOffset + openLength === offset) openLength += length;
        else {
          if (openLength > 0) list(openOffset, openLength);
          openOffset = offset;
          openLength = length;
        }
        encryptedBytes += length;
        continue;
      }
      let file = start;
      // Clip against the protected ranges: what lies inside one travels sealed through the node anyway.
      while (file < fileEnd) {
        while (r < prot.length && prot[r]!.offset + prot[r]!.length <= file) {
          protectedBefore += prot[r]!.length;
          r++;
        }
        const pr = prot[r];
        if (pr === undefined || fileEnd <= pr.offset) {
          emit(file, fileEnd - file);
          break;
        }
        if (file < pr.offset) emit(file, pr.offset - file);
        file = Math.max(file, pr.offset + pr.length);
      }
    }
    if (openLength > 0) list(openOffset, openLength);
    pieces.releaseBefore(count);
    return { ranges: out, encryptedBytes: rule === undefined ? encryptedBytes : ruled };
  }
}

/** Plans a recording held in memory, with its index. */
export function planPattern(bytes: Uint8Array, index: RecordingIndex, scheme: PatternScheme): PatternPlan {
  const planner = new PatternPlanner(scheme);
  planner.push(bytes);
  return planner.finish(index);
}
