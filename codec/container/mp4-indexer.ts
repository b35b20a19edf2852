/** @module MP4 video track index: sync samples, their byte ranges, and each sample's H.264 slice type. */

import type {
  ByteRange,
  GopRecord,
  IndexError,
  PictureCounts,
  PictureRecord,
  PictureType,
  RecordingIndex,
  VideoFormat,
} from "../recording-index.ts";
import { firstSliceOfLengthPrefixedSample } from "./h264-slice-type.ts";
import { filterMoov } from "./mp4-moov-filter.ts";
import { readSampleTable, type SampleRow } from "./mp4-sample-table.ts";
import { Mp4TopLevelBoxes } from "./mp4-top-level-boxes.ts";
import { RangeCoalescer } from "./range-coalescer.ts";

/**
 * Bytes read from the start of each sample to find its first slice header. x264 puts a ~700-byte SEI
 * before the first slice; other NALs before a slice (AUD, SEI, parameter sets) are short.
 */
export const SAMPLE_PREFIX_BYTES = 4096;
interface Capture {
  index: number;
  buf: Uint8Array;
  fill: number;
}

/**
 * Streams an MP4 file: only ftyp and moov are kept (for mp4box); the sample data is read just for each
 * sample's first SAMPLE_PREFIX_BYTES, as it passes when moov came first, or through finish()/supply()
 * when moov follows mdat.
 */
export class Mp4Indexer {
  private readonly errors: IndexError[] = [];
  private readonly boxes = new Mp4TopLevelBoxes((moov, offset) => this.parseMoov(moov, offset), this.errors);
  private samples: SampleRow[] = [];
  private types: (PictureType | undefined)[] = [];
  private idr: boolean[] = [];
  private lengthSize = 0;
  private entryType = "";
  private format: VideoFormat = "unknown";
  private width = 0;
  private height = 0;
  private parameterSets = 0;
  private moovParsed = false;
  /** Sample indices sorted by file offset, and the next one not yet considered for capture. */
  private byOffset: number[] = [];
  private nextCapture = 0;
  private captureFrom = Number.POSITIVE_INFINITY;
  private active: Capture[] = [];

  private get pos(): number {
    return this.boxes.pos;
  }

  push(chunk: Uint8Array): void {
    const chunkOffset = this.pos;
    this.boxes.push(chunk);
    if (this.moovParsed) this.capture(chunk, chunkOffset);
  }

  /** File ranges still needed: prefixes of samples whose data passed before moov was known. */
  finish(): ByteRange[] {
    this.boxes.end();
    if (!this.moovParsed) {
      if (!this.errors.some((e) => e.code === "ERR_MP4_NO_MOOV")) {
        this.error(this.pos, "ERR_MP4_NO_MOOV", "Cannot index MP4: no complete moov box");
      }
      return [];
    }
    this.active = [];
    const ranges: ByteRange[] = [];
    for (let i = 0; i < this.samples.length; i++) {
      const s = this.samples[i]!;
      if (this.types[i] !== undefined || this.lengthSize === 0) continue;
      if (s.offset + Math.min(s.size, 1) > this.pos) continue;
      ranges.push({ offset: s.offset, length: Math.min(s.size, SAMPLE_PREFIX_BYTES, this.pos - s.offset) });
    }
    return ranges;
  }

  supply(offset: number, bytes: Uint8Array): void {
    if (!this.moovParsed) return;
    for (const i of this.samplesAt(offset)) this.classify(i, bytes.subarray(0, this.samples[i]!.size));
  }

  result(): RecordingIndex {
    const n = this.samples.length;
    const counts: PictureCounts = { seq: this.parameterSets, gop: 0, pic: n, I: 0, P: 0, B: 0, D: 0 };
    const gops: GopRecord[] = [];
    const pictures: PictureRecord[] = [];
    const composition = compositionRanks(this.samples);
    const protectedRanges = new RangeCoalescer();
    let missing = 0;
    let beyondEnd = 0;
    for (let i = 0; i < n; i++) {
      const s = this.samples[i]!;
      if (s.offset + s.size > this.pos) beyondEnd++;
      if (s.sync) gops.push({ offset: s.offset, closed: this.idr[i] ?? true, brokenLink: false });
      let type = this.types[i];
      if (type === undefined) {
        missing++;
        type = s.sync ? "I" : "P";
      }
      // Split/merge promise that every byte of a picture reported as I travels protected. A damaged stss
      // can disagree with the slice headers, so both the sync samples and the I-typed ones are protected.
      // A sample table may point past the end of a truncated file; only bytes that exist are protected.
      if (s.sync || type === "I") protectedRanges.add(s.offset, Math.min(s.size, this.pos - s.offset));
      counts[type]++;
      pictures.push({
        serial: i,
        type,
        structure: "frame",
        offset: s.offset,
        length: s.size,
        gop: gops.length - 1,
        temporalReference: composition[i]!,
      });
    }
    counts.gop = gops.length;
    const errors = [...this.errors];
    if (beyondEnd > 0) {
      errors.push({
        offset: this.pos,
        code: "ERR_MP4_TRUNCATED",
        message: `${beyondEnd} of ${n} samples reach past the end of the file at ${this.pos}`,
      });
    }
    if (missing > 0) {
      errors.push({
        offset: 0,
        code: "ERR_MP4_SLICE_TYPE",
        message: `No slice header read for ${missing} of ${n} ${this.entryType || "video"} samples; their type follows the sync flag`,
      });
    }
    return {
      container: "mp4",
      format: this.format,
      width: this.width,
      height: this.height,
      counts,
      gops,
      pictures,
      errors,
      protectedRanges: protectedRanges.ranges(),
    };
  }

  private parseMoov(moov: Uint8Array, moovOffset: number): void {
    const filtered = filterMoov(moov);
    if (!filtered.ok) {
      this.error(moovOffset, filtered.code, filtered.message);
      if (filtered.code === "ERR_MP4_NO_VIDEO") return;
    } else {
      const { track } = filtered;
      this.entryType = track.entryType;
      this.format = track.format;
      this.width = track.width;
      this.height = track.height;
      this.lengthSize = track.lengthSize;
      this.parameterSets = track.parameterSets;
      const table = readSampleTable(filtered.moov);
      this.samples = table.samples;
      if (table.problem !== undefined) {
        this.error(moovOffset, "ERR_MP4_MOOV", `mp4box could not read the sample tables: ${table.problem}`);
      }
      if (table.dropped > 0) {
        this.error(
          moovOffset,
          "ERR_MP4_SAMPLE_TABLE",
          `${table.dropped} samples have no valid offset in the sample tables and are not indexed`,
        );
      }
    }
    this.moovParsed = true;
    this.types = new Array(this.samples.length).fill(undefined);
    this.idr = new Array(this.samples.length).fill(false);
    this.byOffset = this.samples
      .map((_, i) => i)
      .sort((a, b) => this.samples[a]!.offset - this.samples[b]!.offset);
    this.captureFrom = this.pos;
    if (this.lengthSize === 0) this.nextCapture = this.byOffset.length;
  }

  private *samplesAt(offset: number): Generator<number> {
    let lo = 0;
    let hi = this.byOffset.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.samples[this.byOffset[mid]!]!.offset < offset) lo = mid + 1;
      else hi = mid;
    }
    for (let k = lo; k < this.byOffset.length && this.samples[this.byOffset[k]!]!.offset === offset; k++) {
      yield this.byOffset[k]!;
    }
  }

  /** Copies the prefixes of samples overlapping this chunk; parses each as soon as it is complete. */
  private capture(chunk: Uint8Array, chunkOffset: number): void {
    const chunkEnd = chunkOffset + chunk.length;
    while (this.nextCapture < this.byOffset.length) {
      const index = this.byOffset[this.nextCapture]!;
      const s = this.samples[index]!;
      if (s.offset >= chunkEnd) break;
      this.nextCapture++;
      if (s.offset < this.captureFrom || s.size === 0) continue;
      this.active.push({ index, buf: new Uint8Array(Math.min(s.size, SAMPLE_PREFIX_BYTES)), fill: 0 });
    }
    if (this.active.length === 0) return;
    const still: Capture[] = [];
    for (const c of this.active) {
      const start = this.samples[c.index]!.offset;
      const from = Math.max(start + c.fill, chunkOffset);
      const to = Math.min(start + c.buf.length, chunkEnd);
      if (to > from) {
        c.buf.set(chunk.subarray(from - chunkOffset, to - chunkOffset), from - start);
        c.fill = to - start;
      }
      if (c.fill === c.buf.length) this.classify(c.index, c.buf);
      else still.push(c);
    }
    this.active = still;
  }

  private classify(index: number, prefix: Uint8Array): void {
    const slice = firstSliceOfLengthPrefixedSample(prefix, this.lengthSize);
    if (!slice) return;
    this.types[index] = slice.type;
    this.idr[index] = slice.idr;
  }

  private error(offset: number, code: string, message: string): void {
    this.errors.push({ offset, code, message });
  }
}

/** Rank of each sample's composition time (0 = first displayed), ties in decode order. */
function compositionRanks(samples: SampleRow[]): number[] {
  const order = samples.map((_, i) => i).sort((a, b) => samples[a]!.cts - samples[b]!.cts || a - b);
  const ranks = new Array<number>(samples.length);
  order.forEach((sampleIndex, rank) => {
    ranks[sampleIndex] = rank;
  });
  return ranks;
}
