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
import type { H264Sps } from "./h264-sps.ts";
import { filterMoov } from "./mp4-moov-filter.ts";
import { Mp4SamplePrefixes } from "./mp4-sample-prefixes.ts";
import { readSampleTable, type SampleRow } from "./mp4-sample-table.ts";
import { Mp4TopLevelBoxes } from "./mp4-top-level-boxes.ts";
import type { TrackTime } from "./mp4-track-time.ts";
import { RangeCoalescer } from "./range-coalescer.ts";

export { MAX_SUPPLY_BYTES, SAMPLE_PREFIX_BYTES } from "./mp4-sample-prefixes.ts";

/**
 * Streams an MP4 file: only ftyp and moov are kept (for mp4box); the sample data is read just for each
 * sample's first SAMPLE_PREFIX_BYTES, as it passes when moov came first, or through finish()/supply()
 * when moov follows mdat.
 */
export class Mp4Indexer {
  readonly #errors: IndexError[] = [];
  readonly #boxes = new Mp4TopLevelBoxes((moov, offset) => this.#parseMoov(moov, offset), this.#errors);
  #samples: SampleRow[] = [];
  #types: (PictureType | undefined)[] = [];
  #idr: boolean[] = [];
  #lengthSize = 0;
  #entryType = "";
  #format: VideoFormat = "unknown";
  #width = 0;
  #height = 0;
  #parameterSets = 0;
  /** The avcC's first SPS (inspect's stream properties), or null. */
  sps: H264Sps | null = null;
  /** The moov box as found (header included), or null: the H.264 pattern planner reads the avcC from it. */
  moov: Uint8Array | null = null;
  #moovParsed = false;
  #time: TrackTime = { timeScale: null, shift: 0 };
  /** Takes each sample's first bytes for its slice type (AVC samples only). */
  #prefixes: Mp4SamplePrefixes | undefined;
  /** The last prefix classified: samples that share their bytes (a damaged stco) are parsed once. */
  #lastPrefix: Uint8Array | undefined;
  #lastSlice: ReturnType<typeof firstSliceOfLengthPrefixedSample>;

  get #pos(): number {
    return this.#boxes.pos;
  }

  push(chunk: Uint8Array): void {
    const chunkOffset = this.#pos;
    this.#boxes.push(chunk);
    this.#prefixes?.push(chunk, chunkOffset);
    // The cache compares views: none may outlive the chunk, whose buffer the caller may reuse.
    this.#lastPrefix = undefined;
  }

  /** File ranges still needed: prefixes of samples whose data passed before moov was known. */
  finish(): ByteRange[] {
    this.#boxes.end();
    if (!this.#moovParsed) {
      if (!this.#errors.some((e) => e.code === "ERR_MP4_NO_MOOV")) {
        this.#error(this.#pos, "ERR_MP4_NO_MOOV", "Cannot index MP4: no complete moov box");
      }
      return [];
    }
    return this.#prefixes?.missing(this.#pos) ?? [];
  }

  /**
   * Each sample's presentation and decoding time, parallel to result().pictures, in 1/timeScale seconds on
   * the presentation timeline (the edit list applied, as ffprobe reports pkt_pts/pkt_dts).
   */
  timeStamps(): { timeScale: number | null; pts: (number | null)[]; dts: (number | null)[] } {
    const { shift, timeScale } = this.#time;
    return {
      timeScale,
      pts: this.#samples.map((s) => (s.cts === null ? null : s.cts + shift)),
      dts: this.#samples.map((s) => (s.dts === null ? null : s.dts + shift)),
    };
  }

  supply(offset: number, bytes: Uint8Array): void {
    this.#prefixes?.supply(offset, bytes, this.#pos);
    this.#lastPrefix = undefined;
  }

  result(): RecordingIndex {
    const n = this.#samples.length;
    const counts: PictureCounts = { seq: this.#parameterSets, gop: 0, pic: n, I: 0, P: 0, B: 0, D: 0 };
    const gops: GopRecord[] = [];
    const pictures: PictureRecord[] = [];
    const composition = compositionRanks(this.#samples);
    const protectedRanges = new RangeCoalescer();
    let missing = 0;
    let beyondEnd = 0;
    for (let i = 0; i < n; i++) {
      const s = this.#samples[i]!;
      if (s.offset + s.size > this.#pos) beyondEnd++;
      if (s.sync) gops.push({ offset: s.offset, closed: this.#idr[i] ?? true, brokenLink: false });
      let type = this.#types[i];
      if (type === undefined) {
        missing++;
        type = s.sync ? "I" : "P";
      }
      // Split/merge promise that every byte of a picture reported as I travels protected. A damaged stss
      // can disagree with the slice headers, so both the sync samples and the I-typed ones are protected.
      // A sample table may point past the end of a truncated file; only bytes that exist are protected.
      if (s.sync || type === "I") protectedRanges.add(s.offset, Math.min(s.size, this.#pos - s.offset));
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
    const errors = [...this.#errors];
    if (beyondEnd > 0) {
      errors.push({
        offset: this.#pos,
        code: "ERR_MP4_TRUNCATED",
        message: `${beyondEnd} of ${n} samples reach past the end of the file at ${this.#pos}`,
      });
    }
    if (missing > 0) {
      errors.push({
        offset: 0,
        code: "ERR_MP4_SLICE_TYPE",
        message: `No slice header read for ${missing} of ${n} ${this.#entryType || "video"} samples; their type follows the sync flag`,
      });
    }
    return {
      container: "mp4",
      format: this.#format,
      width: this.#width,
      height: this.#height,
      counts,
      gops,
      pictures,
      errors,
      protectedRanges: protectedRanges.ranges(),
    };
  }

  #parseMoov(moov: Uint8Array, moovOffset: number): void {
    this.moov = moov;
    const filtered = filterMoov(moov);
    if (!filtered.ok) {
      this.#error(moovOffset, filtered.code, filtered.message);
      if (filtered.code === "ERR_MP4_NO_VIDEO") return;
    } else {
      const { track } = filtered;
      this.#entryType = track.entryType;
      this.#format = track.format;
      this.#width = track.width;
      this.#height = track.height;
      this.#lengthSize = track.lengthSize;
      this.#parameterSets = track.parameterSets;
      this.sps = track.sps;
      this.#time = track.time;
      const table = readSampleTable(filtered.moov);
      this.#samples = table.samples;
      if (table.problem !== undefined) {
        this.#error(moovOffset, "ERR_MP4_MOOV", `mp4box could not read the sample tables: ${table.problem}`);
      }
      if (table.dropped > 0) {
        this.#error(
          moovOffset,
          "ERR_MP4_SAMPLE_TABLE",
          `${table.dropped} samples have no valid offset in the sample tables and are not indexed`,
        );
      }
    }
    this.#moovParsed = true;
    this.#types = new Array(this.#samples.length).fill(undefined);
    this.#idr = new Array(this.#samples.length).fill(false);
    if (this.#lengthSize > 0) {
      this.#prefixes = new Mp4SamplePrefixes(this.#samples, this.#pos, (i, prefix) =>
        this.#classify(i, prefix),
      );
    }
  }

  #classify(index: number, prefix: Uint8Array): void {
    const same =
      this.#lastPrefix !== undefined &&
      this.#lastPrefix.buffer === prefix.buffer &&
      this.#lastPrefix.byteOffset === prefix.byteOffset &&
      this.#lastPrefix.length === prefix.length;
    if (!same) {
      this.#lastPrefix = prefix;
      this.#lastSlice = firstSliceOfLengthPrefixedSample(prefix, this.#lengthSize);
    }
    const slice = this.#lastSlice;
    if (!slice) return;
    this.#types[index] = slice.type;
    this.#idr[index] = slice.idr;
  }

  #error(offset: number, code: string, message: string): void {
    this.#errors.push({ offset, code, message });
  }
}

/** Rank of each sample's composition time (0 = first displayed), ties and samples without a time in decode order. */
function compositionRanks(samples: SampleRow[]): number[] {
  const key = (i: number) => samples[i]!.cts ?? Number.POSITIVE_INFINITY;
  const order = samples.map((_, i) => i).sort((a, b) => key(a) - key(b) || a - b);
  const ranks = new Array<number>(samples.length);
  order.forEach((sampleIndex, rank) => {
    ranks[sampleIndex] = rank;
  });
  return ranks;
}
