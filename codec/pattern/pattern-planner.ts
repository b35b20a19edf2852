/** @module Finds the pattern ranges of a recording's direct part: the chosen bytes of every P/B slice, in direct-body offsets. */
import type { DemuxSink } from "../container/demux-sink.ts";
import { detectContainer } from "../container/detect-container.ts";
import { PsDemuxer } from "../container/ps-demuxer.ts";
import { TsDemuxer } from "../container/ts-demuxer.ts";
import { M2TS_PACKET_LENGTH, TS_PACKET_LENGTH } from "../container/ts-packet.ts";
import { StartCodeScanner } from "../mpeg-video/start-code-scanner.ts";
import { isSliceStartCode, START_CODE_BYTES } from "../mpeg-video/start-codes.ts";
import type { ByteRange, ContainerKind, RecordingIndex } from "../recording-index.ts";
import { checkPatternScheme, type PatternScheme, schemeRanges } from "./pattern-scheme.ts";

/** What the planner found: the ranges to encrypt, in offsets of the direct part's body. */
export interface PatternPlan {
  scheme: PatternScheme;
  /** Sorted, disjoint, non-adjacent (coalesced), non-empty ranges of the direct body. */
  ranges: ByteRange[];
  /** Σ range lengths. */
  encryptedBytes: number;
  /**
   * False when the recording's video is not MPEG-1/2 (H.264, MP4, unknown): slices are not scanned there, the
   * plan is empty and pattern mode adds nothing; the sender should then fall back to whole-file encryption.
   */
  supported: boolean;
}

/** Bytes looked at before the container is decided, as the RecordingIndexer does. */
const PROBE_LIMIT = 64 * 1024;

/** PS/TS payload bytes gathered before a scan. */
const BATCH_BYTES = 64 * 1024;

/** Growable columns of numbers: far lighter than an object per piece when a recording has millions. */
class Columns {
  #data = new Float64Array(3 * 1024);
  length = 0;
  constructor(readonly width: number) {}
  push3(a: number, b: number, c: number): void {
    if ((this.length + 1) * this.width > this.#data.length) {
      const grown = new Float64Array(this.#data.length * 2);
      grown.set(this.#data);
      this.#data = grown;
    }
    const at = this.length * this.width;
    this.#data[at] = a;
    this.#data[at + 1] = b;
    this.#data[at + 2] = c;
    this.length++;
  }
  get(row: number, col: number): number {
    return this.#data[row * this.width + col]!;
  }
}

/**
 * Streams over the ORIGINAL recording (the same chunks a split's pass 1 or pass 2 reads, any size) and notes,
 * for every slice, the file bytes the scheme would encrypt, tagged with the slice's ES offset. `finish(index)`
 * keeps those inside P/B/D pictures of the index and outside its protected ranges, and converts them to
 * direct-body offsets. PS/TS are demuxed here with the codec's own demuxers, so each ES byte maps back to the
 * file byte that carries it (a 16-byte slice start may straddle two TS packets: it becomes two pieces).
 */
export class PatternPlanner {
  readonly #scheme: PatternScheme;
  #kind: ContainerKind | undefined;
  #probe: Uint8Array[] = [];
  #probeBytes = 0;
  #demux: PsDemuxer | TsDemuxer | undefined;
  #ignoreVideo = false;
  readonly #scanner: StartCodeScanner;
  /** ES → file map of the ES bytes a still-open slice may need: rows of (es, file, length). */
  #segEs: number[] = [];
  #segFile: number[] = [];
  #segLen: number[] = [];
  #segHead = 0;
  /** Where the last slice's segment search stopped. */
  #cursor = 0;
  #esBytes = 0;
  /** ES offset where the open slice's data begins (after its start code), or -1. */
  #sliceData = -1;
  #sliceCode = -1;
  /** Pieces to encrypt: (slice ES offset, file offset, length), in ES order. */
  readonly #pieces = new Columns(3);
  #finished = false;
  readonly #batch = new Uint8Array(BATCH_BYTES);
  #batchFill = 0;
  #lastBytes: Uint8Array | undefined;
  #lastBuffer: Buffer = Buffer.alloc(0);

  readonly #sink: DemuxSink = {
    video: (bytes, start, end, fileOffset) => this.#onVideo(bytes, start, end, fileOffset),
    error: () => {},
    format: (format) => {
      // H.264/HEVC in a TS: its NAL start codes are not MPEG-2 slices, so nothing is planned (supported=false).
      if (format !== "mpeg1" && format !== "mpeg2") this.#ignoreVideo = true;
    },
  };

  constructor(scheme: PatternScheme) {
    checkPatternScheme(scheme);
    this.#scheme = scheme;
    this.#scanner = new StartCodeScanner((code, offset) => this.#onStartCode(code, offset));
  }

  /** Takes the next bytes of the original recording. */
  push(chunk: Uint8Array): void {
    if (this.#finished || chunk.length === 0) return;
    if (this.#kind === undefined) {
      this.#probe.push(chunk.slice());
      this.#probeBytes += chunk.length;
      const joined = this.#joinProbe();
      const kind = detectContainer(joined, joined.length >= PROBE_LIMIT);
      if (kind === undefined) return;
      this.#start(kind);
      this.#route(joined);
      return;
    }
    this.#route(chunk);
  }

  /**
   * After the last chunk: the plan for this recording, given its index (from the same bytes). Throws a
   * RangeError when the index describes a recording of another container than the bytes pushed.
   */
  finish(index: RecordingIndex): PatternPlan {
    if (!this.#finished) {
      this.#finished = true;
      if (this.#kind === undefined) {
        const joined = this.#joinProbe();
        this.#start(detectContainer(joined, true) ?? "es");
        this.#route(joined);
      }
      this.#demux?.end();
      this.#flushBatch();
      this.#closeSlice(this.#esBytes);
    }
    if (index.container !== this.#kind) {
      throw new RangeError(
        `Cannot plan pattern ranges: the index is of a ${index.container} recording, the bytes are ${this.#kind}`,
      );
    }
    const supported =
      (index.format === "mpeg1" || index.format === "mpeg2") && this.#kind !== "mp4" && !this.#ignoreVideo;
    if (!supported) return { scheme: this.#scheme, ranges: [], encryptedBytes: 0, supported };
    return { scheme: this.#scheme, ...this.#select(index), supported };
  }

  #joinProbe(): Uint8Array {
    if (this.#probe.length === 1) return this.#probe[0]!;
    const joined = new Uint8Array(this.#probeBytes);
    let o = 0;
    for (const p of this.#probe) {
      joined.set(p, o);
      o += p.length;
    }
    this.#probe = [joined];
    return joined;
  }

  #start(kind: ContainerKind): void {
    this.#kind = kind;
    this.#probe = [];
    if (kind === "ps") this.#demux = new PsDemuxer(this.#sink);
    else if (kind === "ts") this.#demux = new TsDemuxer(this.#sink, TS_PACKET_LENGTH);
    else if (kind === "m2ts") this.#demux = new TsDemuxer(this.#sink, M2TS_PACKET_LENGTH);
    else if (kind === "mp4") this.#ignoreVideo = true;
  }

  #route(bytes: Uint8Array): void {
    if (this.#demux) this.#demux.push(bytes);
    else if (!this.#ignoreVideo) this.#onVideo(bytes, 0, bytes.length, this.#esBytes);
  }

  #onVideo(bytes: Uint8Array, start: number, end: number, fileOffset: number): void {
    if (this.#ignoreVideo || end <= start) return;
    if (this.#demux === undefined) {
      // An elementary stream is its own ES: no map to keep, no batching needed (chunks are big).
      this.#esBytes += end - start;
      this.#scanner.push(start === 0 && end === bytes.length ? bytes : bytes.subarray(start, end));
      return;
    }
    const length = end - start;
    const n = this.#segEs.length;
    if (
      n > this.#segHead &&
      this.#segEs[n - 1]! + this.#segLen[n - 1]! === this.#esBytes &&
      this.#segFile[n - 1]! + this.#segLen[n - 1]! === fileOffset
    ) {
      this.#segLen[n - 1]! += length;
    } else {
      this.#segEs.push(this.#esBytes);
      this.#segFile.push(fileOffset);
      this.#segLen.push(length);
    }
    this.#esBytes += length;
    // TS payloads are 184 bytes: scanning each alone costs more than the scan itself, so they are gathered
    // (as the RecordingIndexer does) and scanned a batch at a time. Offsets stay exact: the scanner counts.
    if (this.#batchFill + length > BATCH_BYTES) this.#flushBatch();
    if (length > BATCH_BYTES) {
      this.#scanner.push(bytes.subarray(start, end));
      this.#trimSegments();
      return;
    }
    // Buffer.copy is a memcpy without a view per payload; the wrapper is made once per demuxed chunk.
    if (bytes !== this.#lastBytes) {
      this.#lastBytes = bytes;
      this.#lastBuffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    }
    this.#batchFill += this.#lastBuffer.copy(this.#batch, this.#batchFill, start, end);
  }

  #flushBatch(): void {
    if (this.#batchFill === 0) return;
    this.#scanner.push(this.#batch.subarray(0, this.#batchFill));
    this.#batchFill = 0;
    this.#trimSegments();
  }

  #onStartCode(code: number, offset: number): void {
    this.#closeSlice(offset);
    if (isSliceStartCode(code)) {
      this.#sliceData = offset + START_CODE_BYTES;
      this.#sliceCode = offset;
    }
  }

  /** The open slice's data ends at `end` (the next start code's prefix): note the scheme's pieces of it. */
  #closeSlice(end: number): void {
    const start = this.#sliceData;
    if (start < 0) return;
    this.#sliceData = -1;
    const tag = this.#sliceCode;
    const s = this.#scheme;
    // The default scheme is one piece per slice: no callback on the path run once per slice.
    if (s.kind === "slice-start") this.#mapToFile(tag, start, Math.min(s.bytes, end - start));
    else schemeRanges(s, start, end, (es, len) => this.#mapToFile(tag, es, len));
  }

  #mapToFile(tag: number, es: number, len: number): void {
    if (len <= 0) return;
    if (this.#demux === undefined) {
      this.#pieces.push3(tag, es, len);
      return;
    }
    // Slices close in ES order, so the segment search resumes where the last one stopped.
    let i = Math.max(this.#segHead, this.#cursor);
    const n = this.#segEs.length;
    while (i < n && this.#segEs[i]! + this.#segLen[i]! <= es) i++;
    this.#cursor = i;
    const end = es + len;
    for (; i < n && this.#segEs[i]! < end; i++) {
      const segEs = this.#segEs[i]!;
      const from = Math.max(es, segEs);
      const to = Math.min(end, segEs + this.#segLen[i]!);
      if (to > from) this.#pieces.push3(tag, this.#segFile[i]! + (from - segEs), to - from);
    }
  }

  /** Forgets ES→file segments that no open or future slice can reach. */
  #trimSegments(): void {
    const keepFrom = this.#sliceData >= 0 ? this.#sliceData : this.#scanner.scannedOffset;
    let h = this.#segHead;
    const n = this.#segEs.length;
    while (h < n - 1 && this.#segEs[h]! + this.#segLen[h]! <= keepFrom) h++;
    this.#segHead = h;
    if (h > 1024 && h * 2 > n) {
      this.#segEs = this.#segEs.slice(h);
      this.#segFile = this.#segFile.slice(h);
      this.#segLen = this.#segLen.slice(h);
      this.#cursor = Math.max(0, this.#cursor - h);
      this.#segHead = 0;
    }
  }

  /** Keeps pieces of P/B/D slices outside protected ranges and moves them to direct-body offsets. */
  #select(index: RecordingIndex): { ranges: ByteRange[]; encryptedBytes: number } {
    const pics = index.pictures;
    const prot = index.protectedRanges;
    const out: ByteRange[] = [];
    let encryptedBytes = 0;
    let p = 0;
    let r = 0;
    let protectedBefore = 0;
    const emit = (fileOffset: number, length: number) => {
      const offset = fileOffset - protectedBefore;
      const last = out[out.length - 1];
      if (last !== undefined && last.offset + last.length === offset) last.length += length;
      else out.push({ offset, length });
      encryptedBytes += length;
    };
    for (let k = 0; k < this.#pieces.length; k++) {
      const tag = this.#pieces.get(k, 0);
      let file = this.#pieces.get(k, 1);
      const fileEnd = file + this.#pieces.get(k, 2);
      while (p + 1 < pics.length && pics[p + 1]!.offset <= tag) p++;
      const pic = pics[p];
      if (pic === undefined || pic.type === "I" || tag < pic.offset || tag >= pic.offset + pic.length)
        continue;
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
    return { ranges: out, encryptedBytes };
  }
}

/** Plans a recording held in memory, with its index. */
export function planPattern(bytes: Uint8Array, index: RecordingIndex, scheme: PatternScheme): PatternPlan {
  const planner = new PatternPlanner(scheme);
  planner.push(bytes);
  return planner.finish(index);
}
