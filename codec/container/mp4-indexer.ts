/** @module MP4 video track index through mp4box: sync samples, their byte ranges, and each sample's H.264 slice type. */

import { createFile, MP4BoxBuffer } from "mp4box";
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
import { RangeCoalescer } from "./range-coalescer.ts";

/** Box header: 32-bit size + fourcc; size 1 adds a 64-bit largesize; size 0 runs to the end (ISO/IEC 14496-12 4.2). */
const BOX_HEADER_LENGTH = 8;
const LARGE_BOX_HEADER_LENGTH = 16;
const BOX_SIZE_LARGE = 1;
const BOX_SIZE_TO_END = 0;
/** Boxes kept whole and handed to mp4box; everything else (mdat above all) streams past. */
const KEPT_BOXES = new Set(["ftyp", "moov"]);
/** A moov beyond this is refused, so a corrupt size cannot make us allocate gigabytes. */
const MAX_MOOV_BYTES = 256 * 1024 * 1024;
/**
 * Bytes read from the start of each sample to find its first slice header. x264 puts a ~700-byte SEI
 * before the first slice; other NALs before a slice (AUD, SEI, parameter sets) are short.
 */
export const SAMPLE_PREFIX_BYTES = 4096;
/** Sample entry fourccs, ISO/IEC 14496-15. */
const AVC_ENTRIES = new Set(["avc1", "avc2", "avc3", "avc4"]);
const HEVC_ENTRIES = new Set(["hvc1", "hev1"]);

interface SampleRow {
  offset: number;
  size: number;
  sync: boolean;
  cts: number;
}

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
  private pos = 0;
  private header = new Uint8Array(LARGE_BOX_HEADER_LENGTH);
  private headerFill = 0;
  private boxEnd = 0;
  private boxType = "";
  private collecting: Uint8Array | undefined;
  private collectFill = 0;
  private readonly kept: Uint8Array[] = [];
  private walking: "header" | "body" | "stopped" = "header";
  private fragmentedReported = false;

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
  private readonly errors: IndexError[] = [];

  push(chunk: Uint8Array): void {
    const chunkOffset = this.pos;
    let i = 0;
    while (i < chunk.length && this.walking !== "stopped") i += this.walk(chunk, i);
    if (this.walking === "stopped") this.pos = chunkOffset + chunk.length;
    if (this.moovParsed) this.capture(chunk, chunkOffset);
  }

  /** File ranges still needed: prefixes of samples whose data passed before moov was known. */
  finish(): ByteRange[] {
    if (this.walking === "body" && this.collecting) {
      this.error(this.pos, "ERR_MP4_TRUNCATED", `Cannot read ${this.boxType}: the file ends inside it`);
    }
    this.walking = "stopped";
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
      if (s.sync) {
        gops.push({ offset: s.offset, closed: this.idr[i] ?? true, brokenLink: false });
        // A sample table may point past the end of a truncated file; protect only bytes that exist.
        protectedRanges.add(s.offset, Math.min(s.size, this.pos - s.offset));
      }
      let type = this.types[i];
      if (type === undefined) {
        missing++;
        type = s.sync ? "I" : "P";
      }
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

  /** Consumes box-structure bytes from chunk[i..]; returns how many. */
  private walk(chunk: Uint8Array, i: number): number {
    if (this.walking === "header") {
      const want =
        this.headerFill >= BOX_HEADER_LENGTH && this.boxSizeField() === BOX_SIZE_LARGE
          ? LARGE_BOX_HEADER_LENGTH
          : BOX_HEADER_LENGTH;
      const take = Math.min(want - this.headerFill, chunk.length - i);
      this.header.set(chunk.subarray(i, i + take), this.headerFill);
      this.headerFill += take;
      this.pos += take;
      if (
        this.headerFill === want &&
        (want === LARGE_BOX_HEADER_LENGTH || this.boxSizeField() !== BOX_SIZE_LARGE)
      ) {
        this.startBox(want);
      }
      return take;
    }
    const take = Math.min(this.boxEnd - this.pos, chunk.length - i);
    if (this.collecting) {
      this.collecting.set(chunk.subarray(i, i + take), this.collectFill);
      this.collectFill += take;
    }
    this.pos += take;
    if (this.pos === this.boxEnd) this.endBox();
    return take;
  }

  private boxSizeField(): number {
    const h = this.header;
    return ((h[0]! << 24) >>> 0) + ((h[1]! << 16) | (h[2]! << 8) | h[3]!);
  }

  private startBox(headerLength: number): void {
    const h = this.header;
    const start = this.pos - headerLength;
    this.boxType = String.fromCharCode(h[4]!, h[5]!, h[6]!, h[7]!);
    let size = this.boxSizeField();
    if (size === BOX_SIZE_LARGE) {
      size =
        (((h[8]! << 24) >>> 0) + ((h[9]! << 16) | (h[10]! << 8) | h[11]!)) * 2 ** 32 +
        ((h[12]! << 24) >>> 0) +
        ((h[13]! << 16) | (h[14]! << 8) | h[15]!);
    }
    this.headerFill = 0;
    if (size !== BOX_SIZE_TO_END && size < headerLength) {
      this.error(
        start,
        "ERR_MP4_BOX_SIZE",
        `Cannot walk MP4 boxes: ${this.boxType} declares size ${size}, below its header`,
      );
      this.walking = "stopped";
      return;
    }
    this.boxEnd = size === BOX_SIZE_TO_END ? Number.POSITIVE_INFINITY : start + size;
    if (this.boxType === "moof" && !this.fragmentedReported) {
      this.fragmentedReported = true;
      this.error(
        start,
        "ERR_MP4_FRAGMENTED",
        "Movie fragments (moof) are not indexed; only the moov sample tables are",
      );
    }
    this.collecting = undefined;
    if (KEPT_BOXES.has(this.boxType)) {
      if (size === BOX_SIZE_TO_END || size > MAX_MOOV_BYTES) {
        this.error(
          start,
          "ERR_MP4_BOX_SIZE",
          `Cannot keep ${this.boxType}: size ${size} is unbounded or above 256 MiB`,
        );
      } else {
        this.collecting = new Uint8Array(size);
        this.collecting.set(h.subarray(0, headerLength));
        this.collectFill = headerLength;
      }
    }
    this.walking = "body";
    if (this.pos === this.boxEnd) this.endBox();
  }

  private endBox(): void {
    this.walking = "header";
    const box = this.collecting;
    this.collecting = undefined;
    if (!box) return;
    if (this.boxType === "moov" && !this.moovParsed) {
      this.kept.push(box);
      this.parseMoov(this.boxEnd - box.length);
      this.kept.length = 0;
    } else if (this.boxType === "ftyp") {
      this.kept.push(box);
    }
  }

  private parseMoov(moovOffset: number): void {
    const total = this.kept.reduce((a, b) => a + b.length, 0);
    const joined = new Uint8Array(total);
    let o = 0;
    for (const k of this.kept) {
      joined.set(k, o);
      o += k.length;
    }
    const problems: string[] = [];
    // mp4box reports some parse errors through console.error (its Log has no silent level and no hook for
    // box-level errors). The codec does not log, so for this synchronous call those messages are caught and
    // become the ERR_MP4_MOOV error below instead.
    const consoleError = console.error;
    const consoleWarn = console.warn;
    const capture = (...args: unknown[]) => {
      problems.push(args.slice(-1).map(String).join(" "));
    };
    console.error = capture;
    console.warn = capture;
    try {
      const file = createFile();
      file.onError = (module: string, message: string) => problems.push(`${module}: ${message}`);
      file.appendBuffer(MP4BoxBuffer.fromArrayBuffer(joined.buffer, 0));
      file.flush();
      const info = file.getInfo();
      const track = info.videoTracks[0];
      if (!track) {
        this.error(moovOffset, "ERR_MP4_NO_VIDEO", "Cannot index MP4: moov has no video track");
        return;
      }
      const trak = file.getTrackById(track.id);
      const entry = trak.mdia?.minf?.stbl?.stsd?.entries?.[0] as
        | {
            type?: string;
            width?: number;
            height?: number;
            avcC?: { lengthSizeMinusOne: number; nb_SPS_nalus: number };
          }
        | undefined;
      this.entryType = entry?.type ?? "";
      this.width = entry?.width ?? track.video?.width ?? 0;
      this.height = entry?.height ?? track.video?.height ?? 0;
      if (AVC_ENTRIES.has(this.entryType)) {
        this.format = "h264";
        this.lengthSize = (entry?.avcC?.lengthSizeMinusOne ?? 3) + 1;
        this.parameterSets = entry?.avcC?.nb_SPS_nalus ?? 0;
      } else if (HEVC_ENTRIES.has(this.entryType)) {
        this.format = "hevc";
      }
      this.samples = trak.samples.map((s) => ({
        offset: s.offset,
        size: s.size,
        sync: s.is_sync,
        cts: s.cts,
      }));
    } catch (e) {
      problems.push(e instanceof Error ? e.message : String(e));
    } finally {
      console.error = consoleError;
      console.warn = consoleWarn;
    }
    if (problems.length > 0) {
      this.error(
        moovOffset,
        "ERR_MP4_MOOV",
        `mp4box could not read moov: ${problems.slice(0, 3).join("; ")}`,
      );
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
