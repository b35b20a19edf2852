/** @module Finds the cbcs blocks of an H.264 recording's direct part: 1 in 10 16-byte blocks of every slice's data, in direct-body offsets, with each slice's chain start. */

import { codecError } from "../codec-error.ts";
import { cbcsSliceBlocks } from "../container/cbcs-slice-blocks.ts";
import { RecordingIndexer } from "../container/recording-indexer.ts";
import type { VideoObserver } from "../container/video-observer.ts";
import type { RecordingIndex } from "../recording-index.ts";
import { MAX_PATTERN_HEADER_BYTES, patternHeaderLength } from "./pattern-header.ts";
import type { PatternPlan } from "./pattern-planner.ts";
import { PatternRangeTable, WINDOW_ROWS } from "./pattern-range-table.ts";
import { checkPatternScheme, PATTERN_BLOCK_BYTES, type PatternScheme } from "./pattern-scheme.ts";

/** Piece flags: the first piece of a block; the first block of a slice (a CBC chain, ISO/IEC 23001-7 10.4). */
const FIRST_PIECE = 1;
const CHAIN_START = 2;

/**
 * Rides on a RecordingIndexer's scan of an H.264 Transport Stream (h264Slice()): for each coded slice NAL unit
 * (types 1 and 5) whose slice header it could read, the slice data [dataStart, nalEnd) gets the cbcs blocks of
 * cbcsSliceBlocks() (the pattern from its first byte, then its last block as a chain of its own), each block
 * mapped to the file bytes carrying it (two pieces when a packet header cuts it). A slice whose header cannot
 * be read stays clear and is counted (`clearSlices`). finish(index) drops every block touching a protected
 * range (those bytes travel sealed through the node, and CBC needs a block whole on one side) and converts the
 * rest to direct-body offsets, noting where each chain begins.
 */
export class H264PatternPlanner implements VideoObserver {
  readonly #scheme: PatternScheme & { kind: "cbcs" };
  #indexer: RecordingIndexer | undefined;
  readonly #pieces = new PatternRangeTable();
  #flags = new Uint8Array(1024);
  #slices = 0;
  #clearSlices = 0;
  readonly #maxHeaderBytes: number;
  #firstPiece = true;
  readonly #emit = (file: number, length: number) => this.#piece(file, length);

  constructor(scheme: PatternScheme, options: { maxHeaderBytes?: number } = {}) {
    checkPatternScheme(scheme);
    if (scheme.kind !== "cbcs")
      throw new RangeError(`Cannot plan H.264 pattern: scheme ${scheme.kind} is not cbcs`);
    this.#scheme = scheme;
    this.#maxHeaderBytes = options.maxHeaderBytes ?? MAX_PATTERN_HEADER_BYTES;
  }

  /** An indexer and a planner that rides on its scan: push the recording into `indexer` only. */
  static withIndexer(scheme: PatternScheme): { indexer: RecordingIndexer; planner: H264PatternPlanner } {
    const planner = new H264PatternPlanner(scheme);
    const indexer = new RecordingIndexer({ videoObserver: planner });
    planner.#indexer = indexer;
    return { indexer, planner };
  }

  /** Rides on `indexer`, which a caller made with an observer that forwards to this planner (ridingPatternPlanners). */
  attach(indexer: RecordingIndexer): void {
    if (this.#indexer !== undefined) throw new TypeError("Cannot attach an H264PatternPlanner twice");
    this.#indexer = indexer;
  }

  /** Coded slices seen, and those left clear because their header could not be read. */
  get slices(): { total: number; clear: number } {
    return { total: this.#slices, clear: this.#clearSlices };
  }

  startCode(): void {}

  end(): void {}

  h264Slice(_nalStart: number, dataStart: number, nalEnd: number): void {
    this.#slices++;
    if (dataStart < 0) {
      this.#clearSlices++;
      return;
    }
    cbcsSliceBlocks(dataStart, nalEnd, this.#scheme, this.#block);
  }

  readonly #block = (at: number, chainStart: boolean) => {
    this.#firstPiece = true;
    this.#pendingChain = chainStart;
    const indexer = this.#indexer!;
    const file = indexer.esToFileContiguous(at, PATTERN_BLOCK_BYTES);
    if (file >= 0) this.#piece(file, PATTERN_BLOCK_BYTES);
    else indexer.esToFile(at, PATTERN_BLOCK_BYTES, this.#emit);
  };

  #pendingChain = false;

  #piece(file: number, length: number): void {
    const i = this.#pieces.count;
    if (i === this.#flags.length) {
      const grown = new Uint8Array(2 * i);
      grown.set(this.#flags);
      this.#flags = grown;
    }
    this.#flags[i] =
      (this.#firstPiece ? FIRST_PIECE : 0) | (this.#firstPiece && this.#pendingChain ? CHAIN_START : 0);
    this.#firstPiece = false;
    this.#pieces.push(file, length);
  }

  /**
   * After the last chunk: the plan (with `chainStarts`), given the index of the same bytes. Unsupported (an
   * empty plan) unless the video is H.264 in a PS/TS/M2TS; throws ERR_PATTERN_HEADER_LENGTH when the table
   * would outgrow what a receiver buffers.
   */
  finish(index: RecordingIndex): PatternPlan & { chainStarts: number[] } {
    this.#indexer ??= new RecordingIndexer({ videoObserver: this });
    const own = this.#indexer.result();
    if (index.container !== own.container) {
      throw new RangeError(
        `Cannot plan pattern ranges: the index is of a ${index.container} recording, the bytes are ${own.container}`,
      );
    }
    const supported = index.format === "h264" && own.format === "h264" && own.container !== "mp4";
    if (!supported)
      return {
        scheme: this.#scheme,
        ranges: new PatternRangeTable(),
        encryptedBytes: 0,
        supported,
        chainStarts: [],
      };
    const selected = this.#select(index);
    const headerLength = patternHeaderLength(selected.ranges, selected.chainStarts);
    if (headerLength > this.#maxHeaderBytes) {
      throw codecError(
        "ERR_PATTERN_HEADER_LENGTH",
        `Cannot plan pattern ranges: ${selected.ranges.count} ranges need a ${headerLength}-byte header, over the ${this.#maxHeaderBytes}-byte limit`,
        0,
      );
    }
    return { scheme: this.#scheme, ...selected, supported };
  }

  #select(index: RecordingIndex): {
    ranges: PatternRangeTable;
    encryptedBytes: number;
    chainStarts: number[];
  } {
    const prot = index.protectedRanges;
    const pieces = this.#pieces;
    const flags = this.#flags;
    const count = pieces.count;
    const out = new PatternRangeTable();
    const chainStarts: number[] = [];
    let openOffset = 0;
    let openLength = 0;
    let blocks = 0;
    let r = 0;
    let protectedBefore = 0;
    /** A dropped block began a chain: the next kept block begins it instead. */
    let carry = false;
    // Pieces are read in order, in decoded windows (the table stores varints); a block's pieces (at most 16,
    // each at least a byte) are gathered here until the next block's first piece says where it ends.
    const rows = new Float64Array(2 * WINDOW_ROWS);
    let wFrom = 0;
    let wEnd = 0;
    const block = new Float64Array(2 * PATTERN_BLOCK_BYTES);
    let i = 0;
    while (i < count) {
      const chain: boolean = (flags[i]! & CHAIN_START) !== 0 || carry;
      let n = 0;
      do {
        if (i >= wEnd) {
          wFrom = i;
          wEnd = i + pieces.readRows(i, rows);
        }
        block[n++] = rows[2 * (i - wFrom)]!;
        block[n++] = rows[2 * (i - wFrom) + 1]!;
        i++;
      } while (i < count && (flags[i]! & FIRST_PIECE) === 0 && n < block.length);
      // Pieces ascend in file order: move the protected cursor to the block's first piece.
      const first = block[0]!;
      while (r < prot.length && prot[r]!.offset + prot[r]!.length <= first) {
        protectedBefore += prot[r]!.length;
        r++;
      }
      const lastEnd = block[n - 2]! + block[n - 1]!;
      const next = prot[r];
      if (next !== undefined && next.offset < lastEnd) {
        carry = chain;
        continue;
      }
      if (chain) chainStarts.push(blocks);
      carry = false;
      blocks++;
      for (let k = 0; k < n; k += 2) {
        const offset = block[k]! - protectedBefore;
        const length = block[k + 1]!;
        if (openLength > 0 && openOffset + openLength === offset) openLength += length;
        else {
          if (openLength > 0) out.push(openOffset, openLength);
          openOffset = offset;
          openLength = length;
        }
      }
    }
    if (openLength > 0) out.push(openOffset, openLength);
    return { ranges: out, encryptedBytes: blocks * PATTERN_BLOCK_BYTES, chainStarts };
  }
}
