/** @module Finds the cbcs blocks of an H.264 MP4's direct part: it asks for each P/B sample's NAL heads, reads their slice headers, and lists 1 in 10 blocks of each slice's data in direct-body offsets. */

import { codecError } from "../codec-error.ts";
import { cbcsSliceBlocks } from "../container/cbcs-slice-blocks.ts";
import type { H264ParameterSets } from "../container/h264-slice-header.ts";
import { parseH264SliceHeader } from "../container/h264-slice-header.ts";
import { mp4AvcTrack } from "../container/mp4-cbcs-protection.ts";
import type { ByteRange, RecordingIndex } from "../recording-index.ts";
import { MAX_PATTERN_HEADER_BYTES, patternHeaderLength } from "./pattern-header.ts";
import type { PatternPlan } from "./pattern-planner.ts";
import { PatternRangeTable } from "./pattern-range-table.ts";
import { checkPatternScheme, PATTERN_BLOCK_BYTES, type PatternScheme } from "./pattern-scheme.ts";

/** Bytes asked for at each NAL: its length field and enough of it for any slice header here (as H264EsIndexer keeps). */
const NAL_HEAD_BYTES = 512;
/** Coded slice NAL unit types, ITU-T H.264 Table 7-1. */
const SLICE_NALS = new Set([1, 5]);

interface OpenSample {
  /** File offset of the next NAL length field, and the sample's end. */
  at: number;
  end: number;
}

/**
 * The MP4 counterpart of H264PatternPlanner. An MP4's samples are length-prefixed NAL units (ISO/IEC 14496-15
 * 5.3.3), so a sample's slices are found by hopping from length field to length field, and the hops are not
 * known before the bytes are read. Each round, `needed()` asks for the next NAL head of every sample not yet
 * walked (the sender reads them with positioned reads: a few hundred bytes per NAL, not the media data) and
 * `supply()` takes them. Only samples outside the protected ranges (the sync and I samples, which travel sealed)
 * are walked. `finish()` gives the plan in direct-body offsets with a chain per slice, as for a TS.
 */
export class Mp4PatternPlanner {
  readonly #scheme: PatternScheme & { kind: "cbcs" };
  readonly #lengthSize: number;
  readonly #sets: H264ParameterSets;
  readonly #protected: readonly ByteRange[];
  #open: OpenSample[];
  /** Heads supplied this round, by file offset. */
  readonly #heads = new Map<number, Uint8Array>();
  /** Encrypted blocks (file offset) and the slices' first blocks, in file order once sorted in finish(). */
  readonly #blocks: Array<{ offset: number; chain: boolean }> = [];
  #clearSlices = 0;
  readonly #maxHeaderBytes: number;

  /** `moov`: the file's moov box (RecordingIndexer.mp4Moov); `index`: the index of the same file. */
  constructor(
    moov: Uint8Array,
    index: RecordingIndex,
    options: { scheme: PatternScheme; maxHeaderBytes?: number },
  ) {
    checkPatternScheme(options.scheme);
    if (options.scheme.kind !== "cbcs")
      throw new RangeError(`Cannot plan MP4 pattern: scheme ${options.scheme.kind} is not cbcs`);
    this.#scheme = options.scheme;
    this.#maxHeaderBytes = options.maxHeaderBytes ?? MAX_PATTERN_HEADER_BYTES;
    const track = mp4AvcTrack(moov);
    this.#lengthSize = track.lengthSize;
    this.#sets = track.sets;
    this.#protected = index.protectedRanges;
    const prot = index.protectedRanges;
    const samples = [...index.pictures].sort((a, b) => a.offset - b.offset);
    this.#open = [];
    let r = 0;
    for (const p of samples) {
      while (r < prot.length && prot[r]!.offset + prot[r]!.length <= p.offset) r++;
      const next = prot[r];
      if (next !== undefined && next.offset < p.offset + p.length) continue;
      this.#open.push({ at: p.offset, end: p.offset + p.length });
    }
  }

  /** Slices left clear: their header could not be read. */
  get clearSlices(): number {
    return this.#clearSlices;
  }

  /** The NAL heads to read next (file ranges); empty once every sample is walked. */
  needed(): ByteRange[] {
    return this.#open.map((s) => ({ offset: s.at, length: Math.min(s.end - s.at, NAL_HEAD_BYTES) }));
  }

  /** Bytes read at `offset` for a range needed() asked for (a shorter read means the file ended there). */
  supply(offset: number, bytes: Uint8Array): void {
    this.#heads.set(offset, bytes);
    if (this.#heads.size < this.#open.length) return;
    const still: OpenSample[] = [];
    for (const s of this.#open) {
      const head = this.#heads.get(s.at);
      if (head !== undefined && this.#step(s, head)) still.push(s);
    }
    this.#heads.clear();
    this.#open = still;
  }

  /** Reads the NAL whose head is `head` (at s.at); moves s to the next NAL. False when the sample is done. */
  #step(s: OpenSample, head: Uint8Array): boolean {
    const ls = this.#lengthSize;
    if (head.length < ls || s.at + ls > s.end) return false;
    let nalLength = 0;
    for (let i = 0; i < ls; i++) nalLength = nalLength * 256 + head[i]!;
    const nalEnd = s.at + ls + nalLength;
    // A length past the sample is damage: the rest of the sample stays clear (the merge is byte-exact anyway).
    if (nalEnd > s.end) return false;
    if (nalLength > 0 && SLICE_NALS.has(head[ls]! & 0x1f)) {
      try {
        const h = parseH264SliceHeader(head, ls, Math.min(head.length, ls + nalLength), this.#sets);
        this.#slice(s.at + h.dataOffset, nalEnd);
      } catch {
        this.#clearSlices++;
      }
    }
    s.at = nalEnd;
    return s.at < s.end;
  }

  #slice(dataStart: number, nalEnd: number): void {
    cbcsSliceBlocks(dataStart, nalEnd, this.#scheme, this.#block);
  }

  readonly #block = (offset: number, chain: boolean) => {
    this.#blocks.push({ offset, chain });
  };

  /** The plan, in direct-body offsets; throws ERR_PATTERN_HEADER_LENGTH past what a receiver buffers. */
  finish(): PatternPlan & { chainStarts: number[] } {
    if (this.#open.length > 0)
      throw new TypeError("Cannot finish an MP4 pattern plan: samples are still open");
    // Samples may lie out of order in the file: the blocks are sorted, and each slice's stay together.
    const blocks = this.#blocks.sort((a, b) => a.offset - b.offset);
    const prot = this.#protected;
    const ranges = new PatternRangeTable();
    const chainStarts: number[] = [];
    let r = 0;
    let before = 0;
    let openOffset = 0;
    let openLength = 0;
    blocks.forEach((b, i) => {
      while (r < prot.length && prot[r]!.offset + prot[r]!.length <= b.offset) {
        before += prot[r]!.length;
        r++;
      }
      if (b.chain) chainStarts.push(i);
      const offset = b.offset - before;
      if (openLength > 0 && openOffset + openLength === offset) openLength += PATTERN_BLOCK_BYTES;
      else {
        if (openLength > 0) ranges.push(openOffset, openLength);
        openOffset = offset;
        openLength = PATTERN_BLOCK_BYTES;
      }
    });
    if (openLength > 0) ranges.push(openOffset, openLength);
    const headerLength = patternHeaderLength(ranges, chainStarts);
    if (headerLength > this.#maxHeaderBytes) {
      throw codecError(
        "ERR_PATTERN_HEADER_LENGTH",
        `Cannot plan pattern ranges: ${ranges.count} ranges need a ${headerLength}-byte header, over the ${this.#maxHeaderBytes}-byte limit`,
        0,
      );
    }
    return {
      scheme: this.#scheme,
      ranges,
      encryptedBytes: blocks.length * PATTERN_BLOCK_BYTES,
      supported: true,
      chainStarts,
    };
  }
}
