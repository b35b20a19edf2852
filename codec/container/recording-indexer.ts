/** @module The top-level streaming index of a recording in any container: what inspect prints and split/merge route by. */

import { CappedErrors } from "../capped-errors.ts";
import { VideoIndexer } from "../mpeg-video/video-indexer.ts";
import type {
  ByteRange,
  ContainerKind,
  PictureRecord,
  RecordingIndex,
  VideoFormat,
} from "../recording-index.ts";
import { PictureDetails } from "../stream-info/picture-details.ts";
import { recordingDetails } from "../stream-info/recording-details.ts";
import { h264VideoInfo } from "../stream-info/video-stream-info.ts";
import type { DemuxSink } from "./demux-sink.ts";
import { describeRecording } from "./describe-recording.ts";
import { detectContainer } from "./detect-container.ts";
import type { EsIndexer } from "./es-indexer.ts";
import { EsUnitMap } from "./es-unit-map.ts";
import { H264EsIndexer } from "./h264-es-indexer.ts";
import { Mp4Indexer } from "./mp4-indexer.ts";
import { PsDemuxer } from "./ps-demuxer.ts";
import { RangeCoalescer } from "./range-coalescer.ts";
import type { RecordingIndexerOptions } from "./recording-indexer-options.ts";
import { TsDemuxer } from "./ts-demuxer.ts";
import { M2TS_PACKET_LENGTH, TS_PACKET_LENGTH } from "./ts-packet.ts";
import { RUN_FIELDS } from "./video-block.ts";
import type { VideoObserver } from "./video-observer.ts";

const EMPTY_BUFFER: Buffer = Buffer.alloc(0);

/** Video payload gathered before one push into the ES indexer. */
const BATCH_BYTES = 64 * 1024;

/**
 * Indexes a recording streamed in consecutive chunks. The container is detected from the first bytes;
 * PS/TS video is demuxed into a VideoIndexer, and each finalized I-picture's ES range is mapped back to
 * the PES/TS packets that carried it. Only the packet records of pictures still open are kept, so memory
 * stays bounded by the index itself however long the recording.
 */
export class RecordingIndexer {
  #kind: ContainerKind | undefined;
  #probe: Uint8Array[] = [];
  #probeBytes = 0;
  #finished = false;

  #video: EsIndexer;
  readonly #observer: VideoObserver | undefined;
  #demux: PsDemuxer | TsDemuxer | undefined;
  #mp4: Mp4Indexer | undefined;
  #declaredFormat: VideoFormat | undefined;
  /** The video is parsed; false for HEVC in a Transport Stream, which is not indexed picture by picture. */
  #feedVideo = true;

  readonly #units: EsUnitMap;
  readonly #batch = new Uint8Array(BATCH_BYTES);
  #batchFill = 0;
  /** A Buffer view of the chunk the demuxer is handing pieces of, made once per chunk. */
  #lastChunk: Uint8Array | undefined;
  #lastBuffer: Buffer = EMPTY_BUFFER;
  #esBytes = 0;
  #nextPicture = 0;
  readonly #ranges = new RangeCoalescer();
  readonly #errors = new CappedErrors();

  readonly #sink: DemuxSink = {
    video: (bytes, start, end, fileOffset, unitOffset, unitLength) =>
      this.#onVideo(bytes, start, end, unitOffset, unitLength, fileOffset),
    videoBlock: (es, runs, runCount, unitLength) => this.#onVideoBlock(es, runs, runCount, unitLength),
    error: (offset, code, message) => this.#error(offset, code, message),
    format: (format) => {
      this.#declaredFormat = format;
      // The PMT names the format before any video PES is read, so the ES indexer can still be swapped.
      if (format === "h264" && this.#esBytes === 0) {
        const observer = this.#observer;
        this.#video = new H264EsIndexer(
          observer?.h264Slice ? { onSlice: (a, b, c) => observer.h264Slice?.(a, b, c) } : {},
        );
      }
      this.#feedVideo = format === "mpeg1" || format === "mpeg2" || format === "h264";
      if (!this.#feedVideo) {
        this.#error(
          0,
          "ERR_VIDEO_NOT_INDEXED",
          `${format} video in a Transport Stream is detected but not indexed picture by picture`,
        );
      }
    },
  };

  readonly #details: PictureDetails | undefined;
  readonly #wantDetails: boolean;
  readonly #retainPictures: boolean;

  constructor(options: RecordingIndexerOptions = {}) {
    const observer = options.videoObserver;
    this.#observer = observer;
    const unitRun = observer?.unitRun;
    this.#units = new EsUnitMap(unitRun === undefined ? undefined : unitRun.bind(observer));
    this.#wantDetails = options.details === true;
    // An observer that reads the pictures from the list needs it kept; one that takes them one by one does not.
    this.#retainPictures =
      this.#wantDetails ||
      (observer !== undefined ? observer.picture === undefined : options.retainPictures !== false);
    this.#details = options.details && options.pictureDetails ? new PictureDetails() : undefined;
    // Only asked for with details: a demuxer reads time stamps back only for a sink that takes them.
    const details = this.#details;
    if (details) {
      this.#sink.timestamps = (pts, dts, pending) => {
        if (this.#feedVideo) details.stamp(this.#esBytes + pending, pts, dts);
      };
    }
    this.#video = observer
      ? new VideoIndexer({
          onStartCode: (code, offset) => observer.startCode(code, offset),
          ...(observer.picture ? { onPicture: (p: PictureRecord) => observer.picture?.(p) } : {}),
        })
      : new VideoIndexer();
  }

  /** An MP4's moov box (header included) once read, else null (every other container). */
  get mp4Moov(): Uint8Array | null {
    return this.#mp4?.moov ?? null;
  }

  /** Video elementary-stream bytes demuxed so far. */
  get videoBytes(): number {
    return this.#esBytes;
  }

  /**
   * Calls `emit(fileOffset, length)`, in order, for the file bytes carrying ES bytes [esOffset, esOffset +
   * esLength) (for PS/TS one call per container packet touched). Bytes before the open picture may already be
   * forgotten and are skipped.
   */
  esToFile(esOffset: number, esLength: number, emit: (fileOffset: number, length: number) => void): void {
    this.#units.esToFile(esOffset, esLength, emit);
  }

  /** esToFile() for a pattern's blocks in one walk (EsUnitMap.patternToFile()): the pattern planners' per-slice call. */
  patternToFile(
    esOffset: number,
    esEnd: number,
    run: number,
    period: number,
    emit: (fileOffset: number, length: number) => void,
  ): void {
    this.#units.patternToFile(esOffset, esEnd, run, period, emit);
  }

  /**
   * The file offset of ES byte `esOffset` when ES bytes [esOffset, esOffset + esLength) lie back to back in the
   * file, else -1 (then esToFile() gives the pieces; also -1 for bytes already forgotten).
   */
  esToFileContiguous(esOffset: number, esLength: number): number {
    return this.#units.esToFileContiguous(esOffset, esLength);
  }

  /** The video pictures finalized so far, in ES order (the array result() will return; empty for MP4). */
  /** The container detected from the first bytes, undefined until then (video observers are called after it). */
  get container(): ContainerKind | undefined {
    return this.#kind;
  }

  get pictures(): readonly PictureRecord[] {
    return this.#mp4 ? [] : this.#video.pictures;
  }

  /** Packet records held for pictures not yet finalized: stays near one picture's worth, however long the file. */
  get heldUnitRecords(): number {
    return this.#units.size;
  }

  push(chunk: Uint8Array): void {
    if (this.#finished || chunk.length === 0) return;
    if (this.#kind === undefined) {
      // Most files are recognised from their first chunk: then it is routed as it is, without the copy the
      // probe keeps (the chunk may be a reused read buffer).
      const first = this.#probe.length === 0;
      if (first) {
        const kind = detectContainer(chunk, false);
        if (kind !== undefined) {
          this.#start(kind);
          this.#route(chunk);
          return;
        }
      }
      this.#probe.push(chunk.slice());
      this.#probeBytes += chunk.length;
      if (first) return;
      const joined = this.#joinProbe();
      const kind = detectContainer(joined, false);
      if (kind === undefined) return;
      this.#start(kind);
      this.#probe = [];
      this.#route(joined);
      return;
    }
    this.#route(chunk);
  }

  finish(): ByteRange[] {
    if (this.#finished) return [];
    this.#finished = true;
    if (this.#kind === undefined) {
      const joined = this.#joinProbe();
      this.#start(detectContainer(joined, true) ?? "es");
      this.#probe = [];
      this.#route(joined);
    }
    if (this.#mp4) return this.#mp4.finish();
    this.#demux?.end();
    this.#flushBatch();
    this.#observer?.end(this.#esBytes);
    this.#video.end();
    this.#collectPictures();
    this.#units.retireAll();
    return [];
  }

  supply(offset: number, bytes: Uint8Array): void {
    this.#mp4?.supply(offset, bytes);
  }

  result(): RecordingIndex {
    if (!this.#finished) this.finish();
    if (this.#mp4) {
      const r = this.#mp4.result();
      const index = { ...r, errors: [...this.#errors.list, ...r.errors] };
      // MP4 samples are located by the sample tables, not by packets: pos is the sample's own offset.
      if (this.#wantDetails) {
        const pos = r.pictures.map((p) => p.offset);
        const { timeScale, pts, dts } = this.#mp4.timeStamps();
        index.details = recordingDetails(h264VideoInfo(this.#mp4.sps), [], r.pictures, {
          pos,
          // Without a readable mdhd the times have no unit: none are reported.
          pts: timeScale === null ? pos.map(() => null) : pts,
          dts: timeScale === null ? pos.map(() => null) : dts,
          timeScale,
        });
      }
      return index;
    }
    const v = this.#video;
    const errors = [...this.#errors.list, ...v.errors];
    const dropped = this.#errors.summary(0, "ERR_CONTAINER_TOO_MANY_ERRORS", "container errors");
    if (dropped) errors.push(dropped);
    const format = this.#declaredFormat && !this.#feedVideo ? this.#declaredFormat : v.format;
    return {
      container: this.#kind ?? "es",
      format,
      width: v.width,
      height: v.height,
      counts: { ...v.counts },
      gops: v.gops,
      pictures: v.pictures,
      errors,
      protectedRanges: this.#ranges.ranges(),
      ...(this.#wantDetails
        ? {
            details: describeRecording(
              { video: v, demux: this.#demux, fed: this.#feedVideo, format },
              this.#details,
            ),
          }
        : {}),
    };
  }

  #joinProbe(): Uint8Array {
    if (this.#probe.length === 1) return this.#probe[0]!;
    const joined = new Uint8Array(this.#probeBytes);
    let o = 0;
    for (const part of this.#probe) {
      joined.set(part, o);
      o += part.length;
    }
    this.#probe = [joined];
    return joined;
  }

  #start(kind: ContainerKind): void {
    this.#kind = kind;
    if (kind === "ps") this.#demux = new PsDemuxer(this.#sink);
    else if (kind === "ts") this.#demux = new TsDemuxer(this.#sink, TS_PACKET_LENGTH);
    else if (kind === "m2ts") this.#demux = new TsDemuxer(this.#sink, M2TS_PACKET_LENGTH);
    else if (kind === "mp4") this.#mp4 = new Mp4Indexer();
  }

  #route(bytes: Uint8Array): void {
    this.#routeChunk(bytes);
    // No view of a pushed chunk outlives the push: the caller may reuse or release it.
    this.#lastChunk = undefined;
    this.#lastBuffer = EMPTY_BUFFER;
  }

  #routeChunk(bytes: Uint8Array): void {
    if (this.#mp4) {
      this.#mp4.push(bytes);
    } else if (this.#demux) {
      this.#demux.push(bytes);
    } else {
      // An elementary stream is its own ES: file offsets and ES offsets coincide.
      this.#onVideo(bytes, 0, bytes.length, this.#esBytes, bytes.length, this.#esBytes);
    }
  }

  #onVideo(
    bytes: Uint8Array,
    start: number,
    end: number,
    unitOffset: number,
    unitLength: number,
    fileOffset: number,
  ): void {
    if (!this.#feedVideo) return;
    const isEs = this.#demux === undefined;
    const length = end - start;
    if (this.#esBytes === 0) this.#details?.start(isEs ? 0 : unitOffset);
    // For ES, a unit is the payload itself so an I-picture maps to exactly its own bytes.
    if (isEs) this.#units.append(this.#esBytes, length, fileOffset, fileOffset, length);
    else this.#units.append(this.#esBytes, length, fileOffset, unitOffset, unitLength);
    this.#esBytes += length;
    if (isEs || length >= BATCH_BYTES / 2) {
      this.#flushBatch();
      this.#video.push(start === 0 && end === bytes.length ? bytes : bytes.subarray(start, end));
      this.#collectPictures();
      return;
    }
    // Program Stream payloads are small (about 2 KB a PES packet); the ES indexers are far faster on big
    // chunks, so payloads are gathered and handed on together. Pictures are mapped once the batch is indexed.
    // (A Transport Stream's video comes gathered already, through #onVideoBlock.)
    if (this.#batchFill + length > BATCH_BYTES) this.#flushBatch();
    // Buffer#copy is a plain memcpy; set(subarray()) would create a view per payload.
    if (bytes !== this.#lastChunk) {
      this.#lastChunk = bytes;
      this.#lastBuffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    }
    this.#batchFill += this.#lastBuffer.copy(this.#batch, this.#batchFill, start, end);
  }

  /** A Transport Stream's video, gathered by its demuxer: indexed where it lies (the TS kernel's block). */
  #onVideoBlock(es: Uint8Array, runs: Float64Array, runCount: number, unitLength: number): void {
    if (!this.#feedVideo) return;
    let at = this.#esBytes;
    if (at === 0 && runCount > 0) this.#details?.start(runs[1] as number);
    for (let r = 0; r < RUN_FIELDS * runCount; r += RUN_FIELDS) {
      const length = runs[r + 2] as number;
      const count = runs[r + 3] as number;
      this.#units.append(at, length, runs[r] as number, runs[r + 1] as number, unitLength, count);
      at += length * count;
    }
    this.#esBytes = at;
    this.#flushBatch();
    this.#video.push(es);
    this.#collectPictures();
  }

  #flushBatch(): void {
    if (this.#batchFill === 0) return;
    this.#video.push(this.#batch.subarray(0, this.#batchFill));
    this.#batchFill = 0;
    this.#collectPictures();
  }

  /** Maps every newly finalized I-picture to its carrying units, then forgets units no picture can need. */
  #collectPictures(): void {
    const pictures = this.#video.pictures;
    for (; this.#nextPicture < pictures.length; this.#nextPicture++) {
      const p = pictures[this.#nextPicture]!;
      if (this.#details) this.#details.picture(p, this.#unitAt);
      if (p.type === "I") this.#units.protect(p.offset, p.length, this.#demux === undefined, this.#ranges);
    }
    if (!this.#retainPictures && this.#video instanceof VideoIndexer) {
      this.#video.releasePictures();
      this.#nextPicture = 0;
    }
    this.#units.trim(this.#video.settledOffset);
  }

  /** The unit carrying an ES byte: for an ES the byte itself (the file is the ES). */
  readonly #unitAt = (esOffset: number): number =>
    this.#demux === undefined ? esOffset : this.#units.unitAt(esOffset);

  #error(offset: number, code: string, message: string): void {
    this.#errors.add(offset, code, message);
  }
}
