/** @module Streaming index of an MPEG-1/2 video elementary stream: pictures, GOPs, counts and errors. */
import { CodecError } from "../codec-error.ts";
import type {
  GopRecord,
  IndexError,
  PictureCounts,
  PictureRecord,
  PictureType,
  VideoFormat,
} from "../recording-index.ts";
import { type CodedFrame, FieldPairer } from "./field-pairer.ts";
import { formatTimeCode, parseGopHeader } from "./gop-header.ts";
import type { OpenPicture } from "./open-picture.ts";
import { PendingHeader } from "./pending-header.ts";
import {
  type PictureCodingExtension,
  parsePictureCodingExtension,
  parsePictureStructure,
} from "./picture-coding-extension.ts";
import {
  type PictureHeadRecord,
  pictureHeadStructure,
  pictureHeadTemporalReference,
  pictureHeadType,
} from "./picture-head.ts";
import {
  PICTURE_CODING_TYPE_I,
  parsePictureType,
  peekPictureCodingType,
  pictureTemporalReference,
} from "./picture-header.ts";
import {
  parseSequenceDisplayExtension,
  type SequenceDisplayExtension,
} from "./sequence-display-extension.ts";
import type { SequenceExtension } from "./sequence-extension.ts";
import { SequenceFormat } from "./sequence-format.ts";
import type { SequenceHeader } from "./sequence-header.ts";
import { StartCodeScanner } from "./start-code-scanner.ts";
import {
  EXTENSION_START_CODE,
  GROUP_START_CODE,
  PICTURE_CODING_EXTENSION_ID,
  PICTURE_START_CODE,
  SEQUENCE_DISPLAY_EXTENSION_ID,
  SEQUENCE_END_CODE,
  SEQUENCE_ERROR_CODE,
  SEQUENCE_HEADER_CODE,
  SLICE_START_CODE_LAST,
  START_CODE_BYTES,
  USER_DATA_START_CODE,
} from "./start-codes.ts";
import { VideoIndexErrors } from "./video-index-errors.ts";
import type { VideoIndexerOptions } from "./video-indexer-options.ts";

/**
 * Indexes an ES fed in chunks of any size. Never throws on bad data: every problem becomes an IndexError with
 * its ES offset and indexing resumes at the next start code that opens a sequence, GOP or picture.
 *
 * Byte ownership (what split/merge routes by): a picture owns [its picture_start_code, the next picture, GOP,
 * sequence header or sequence end start code), so its extensions, user data, slices and any trailing zero
 * stuffing travel with it. Bytes outside every picture (sequence headers, GOP headers, leading garbage, and the
 * bytes of a picture whose header is unreadable) belong to no picture: split/merge sends them in the direct
 * part. One exception keeps that safe: a damaged picture header whose picture_coding_type still reads 1 is
 * indexed as an I-picture (with an error), so a damaged I-picture is protected, never sent directly.
 */
export class VideoIndexer {
  readonly pictures: PictureRecord[] = [];
  readonly gops: GopRecord[] = [];
  readonly #errors = new VideoIndexErrors();
  readonly #fields = new FieldPairer((f) => this.#errors.unpairedField(f));
  readonly counts: PictureCounts = { seq: 0, gop: 0, pic: 0, I: 0, P: 0, B: 0, D: 0 };
  readonly #sequence = new SequenceFormat();
  /** The first sequence display extension (ISO/IEC 13818-2 6.2.2.4), or null. */
  display: SequenceDisplayExtension | null = null;
  /** The first picture coding extension (ISO/IEC 13818-2 6.2.3.1), or null (MPEG-1). */
  firstCoding: PictureCodingExtension | null = null;

  readonly #scanner: StartCodeScanner;
  #ended = false;
  #settled = 0;
  #sawStartCode = false;

  // The header being collected, parsed when the next start code (or the end of the stream) bounds it.
  readonly #pending = new PendingHeader();
  /**
   * The picture being collected, if `#hasPicture`. One object reused for every picture: a 270 MB recording has
   * ~10 000 of them, and their allocation alone brought on a garbage collection in a one-shot `inspect`.
   */
  readonly #picture: OpenPicture = {
    offset: 0,
    type: "I",
    structure: "frame",
    temporalReference: 0,
    gop: -1,
    hasSlices: false,
  };
  #hasPicture = false;
  /**
   * The previous header was a picture header, so an extension now is its picture coding extension (MPEG-2
   * requires one; a stream joined mid-way, format still unknown, may have one).
   */
  #expectCodingExtension = false;
  #orphanSlicesReported = false;
  readonly #onPicture: ((p: PictureRecord) => void) | undefined;

  constructor(options: VideoIndexerOptions = {}) {
    const observe = options.onStartCode;
    this.#onPicture = options.onPicture;
    const kernel = options.kernel ?? "auto";
    // Only the first slice of a run matters here (it bounds the header before it and marks the picture as
    // having slice data), so without an observer the scanner skips the rest without calling back, and the
    // kernel hands over each well-formed picture head as one record. With an observer, a repeated slice
    // start code is idempotent for the indexer (the first one cleared its state).
    this.#scanner = observe
      ? new StartCodeScanner(
          (code, offset, chunk, codeIndex) => {
            observe(code, offset);
            this.#onStartCode(code, offset, chunk, codeIndex);
          },
          { kernel },
        )
      : new StartCodeScanner(
          (code, offset, chunk, codeIndex) => this.#onStartCode(code, offset, chunk, codeIndex),
          {
            collapseSlices: true,
            kernel,
            pictureHeads: {
              enabled: () => this.#headsEnabled(),
              onPictureHead: (offset, record) => this.#onPictureHead(offset, record),
            },
          },
        );
  }

  /** Frames in stream order (frame pictures and field pairs); each field is also its own entry in `pictures`. */
  get frames(): readonly CodedFrame[] {
    return this.#fields.frames;
  }

  /**
   * Forgets the finalized pictures, frames and GOPs (counts and errors stay; serials and GOP numbers run on). For
   * a reader that has used each picture as it was finalized (a send's pass 1), so the index does not grow with
   * the recording: a picture record and its frame serials are ~140 bytes, 20 MiB for a 4 GiB recording.
   */
  releasePictures(): void {
    this.pictures.length = 0;
    this.gops.length = 0;
    this.#fields.forget();
  }

  /** Problems found, in stream order, with ES offsets (at most MAX_INDEX_ERRORS and one summary). */
  get errors(): readonly IndexError[] {
    return this.#errors.list;
  }

  get format(): VideoFormat {
    return this.#sequence.format;
  }
  /** The first valid sequence header, or null. */
  get sequenceHeader(): SequenceHeader | null {
    return this.#sequence.firstHeader;
  }
  /** The first valid sequence extension (MPEG-2 only), or null. */
  get sequenceExtension(): SequenceExtension | null {
    return this.#sequence.firstExtension;
  }
  get width(): number {
    return this.#sequence.width;
  }
  get height(): number {
    return this.#sequence.height;
  }
  get bytesSeen(): number {
    return this.#scanner.bytesSeen;
  }

  /**
   * ES offset below which every byte's classification is final: it belongs to a finalized picture or to none.
   * Non-decreasing; equals bytesSeen after end().
   */
  get settledOffset(): number {
    let s = this.#ended ? this.bytesSeen : this.#scanner.scannedOffset;
    if (!this.#ended) {
      if (this.#pending.code === PICTURE_START_CODE) s = Math.min(s, this.#pending.offset);
      if (this.#hasPicture) s = Math.min(s, this.#picture.offset);
    }
    if (s > this.#settled) this.#settled = s;
    return this.#settled;
  }

  push(chunk: Uint8Array): void {
    if (this.#ended) throw new TypeError("Cannot push to a VideoIndexer after end()");
    if (chunk.length === 0) return;
    this.#pending.fill(chunk, 0);
    this.#scanner.push(chunk);
  }

  end(): void {
    if (this.#ended) return;
    const total = this.bytesSeen;
    const partial = this.#scanner.partialStartCodeOffset;
    if (partial >= 0) this.#errors.truncated(partial);
    if (!this.#sawStartCode && total > 0) {
      this.#errors.noStartCode(total);
    }
    this.#finishPending(total);
    this.#closePicture(total);
    this.#fields.flush();
    this.#ended = true;
    this.#errors.close(total);
  }

  /**
   * Picture heads may come as records once reading their start codes one by one could only do what
   * #onPictureHead does: the stream is MPEG-2 (so a picture header expects its coding extension), and its
   * first start code and sequence header have been seen (their one-time errors are behind). Each of these
   * stays true once true. The first picture coding extension is always read the slow way, whole: inspect
   * reports its field order.
   */
  #headsEnabled(): boolean {
    return (
      this.#sequence.format === "mpeg2" &&
      this.#sequence.seen &&
      this.#sawStartCode &&
      this.firstCoding !== null
    );
  }

  /**
   * A well-formed picture head (picture-head.ts): what #onStartCode does for its picture start code, picture
   * coding extension, user data and first slice when every header parses, without reading them again.
   */
  #onPictureHead(offset: number, record: PictureHeadRecord): void {
    if (this.#pending.code >= 0) this.#finishPending(offset);
    if (this.#expectCodingExtension) this.#missingCodingExtension();
    if (this.#sequence.afterHeader) this.#sequence.decide(false);
    this.#closePicture(offset);
    this.#orphanSlicesReported = false;
    const p = this.#picture;
    p.offset = offset;
    p.type = pictureHeadType(record);
    p.structure = pictureHeadStructure(record);
    p.temporalReference = pictureHeadTemporalReference(record);
    p.gop = this.counts.gop - 1;
    p.hasSlices = true;
    this.#hasPicture = true;
  }

  #onStartCode(code: number, offset: number, chunk: Uint8Array, codeIndex: number): void {
    if (this.#pending.code >= 0) this.#finishPending(offset);
    if (!this.#sawStartCode) {
      this.#sawStartCode = true;
      if (offset > 0) this.#errors.leadingBytes(offset);
    }
    // Slice start codes are by far the most common: handle them first and cheaply.
    if (code !== PICTURE_START_CODE && code <= SLICE_START_CODE_LAST) {
      if (this.#expectCodingExtension) this.#missingCodingExtension();
      if (this.#sequence.afterHeader) this.#sequence.decide(false);
      if (this.#hasPicture) this.#picture.hasSlices = true;
      else if (!this.#orphanSlicesReported) {
        this.#orphanSlicesReported = true;
        this.#errors.orphanSlice(offset);
      }
      return;
    }
    if (this.#expectCodingExtension && code !== EXTENSION_START_CODE) this.#missingCodingExtension();
    if (this.#sequence.afterHeader && code !== EXTENSION_START_CODE) this.#sequence.decide(false);
    switch (code) {
      case PICTURE_START_CODE:
      case GROUP_START_CODE:
      case SEQUENCE_HEADER_CODE:
        this.#closePicture(offset);
        if (code !== PICTURE_START_CODE) this.#fields.flush();
        this.#pending.start(code, offset, chunk, codeIndex);
        return;
      case SEQUENCE_END_CODE:
        this.#closePicture(offset);
        this.#fields.flush();
        return;
      case EXTENSION_START_CODE:
        this.#pending.start(code, offset, chunk, codeIndex);
        return;
      case USER_DATA_START_CODE:
        return;
      case SEQUENCE_ERROR_CODE:
        this.#errors.sequenceError(offset);
        return;
      default:
        this.#errors.unexpectedStartCode(code, offset);
    }
  }

  /** Parses the pending header, bounded by the start code (or stream end) at `end`. */
  #finishPending(end: number): void {
    const { code, offset } = this.#pending;
    if (code < 0) return;
    const bytes = this.#pending.take(end);
    try {
      if (code === PICTURE_START_CODE) this.#openPicture(bytes, offset);
      else if (code === GROUP_START_CODE) this.#addGop(bytes, offset);
      else if (code === SEQUENCE_HEADER_CODE) this.#addSequenceHeader(bytes);
      else if (code === EXTENSION_START_CODE) this.#applyExtension(bytes);
    } catch (e) {
      if (!(e instanceof CodecError)) throw e;
      this.#errors.add(offset + e.offset, e.code, e.message);
    }
  }

  #openPicture(bytes: Uint8Array, offset: number): void {
    if (!this.#sequence.seen && this.counts.pic === 0 && !this.#hasPicture) {
      this.#errors.noSequenceHeader(offset);
      this.#sequence.seen = true; // report once
    }
    this.#orphanSlicesReported = false;
    const gop = this.counts.gop - 1;
    try {
      this.#beginPicture(offset, parsePictureType(bytes, 0), pictureTemporalReference(bytes, 0), gop);
      this.#expectCodingExtension = this.#sequence.format !== "mpeg1";
    } catch (e) {
      // Conservative: a header that still says "I" is an I-picture, whatever else is wrong with it.
      if (e instanceof CodecError && peekPictureCodingType(bytes, 0) === PICTURE_CODING_TYPE_I) {
        this.#beginPicture(offset, "I", pictureTemporalReference(bytes, 0), gop);
        this.#expectCodingExtension = this.#sequence.format !== "mpeg1";
      }
      throw e;
    }
  }

  #beginPicture(offset: number, type: PictureType, temporalReference: number, gop: number): void {
    const p = this.#picture;
    p.offset = offset;
    p.type = type;
    p.structure = "frame";
    p.temporalReference = temporalReference;
    p.gop = gop;
    p.hasSlices = false;
    this.#hasPicture = true;
  }

  #closePicture(end: number): void {
    if (!this.#hasPicture) return;
    this.#hasPicture = false;
    const p = this.#picture;
    if (!p.hasSlices) this.#errors.emptyPicture(p.offset);
    const record: PictureRecord = {
      serial: this.counts.pic,
      type: p.type,
      structure: p.structure,
      offset: p.offset,
      length: end - p.offset,
      gop: p.gop,
      temporalReference: p.temporalReference,
    };
    this.pictures.push(record);
    this.#onPicture?.(record);
    this.counts.pic++;
    this.counts[p.type]++;
    this.#fields.add(record);
  }

  #addGop(bytes: Uint8Array, offset: number): void {
    const h = parseGopHeader(bytes, 0);
    const timeCode = formatTimeCode(h.timeCode);
    this.gops.push({ offset, closed: h.closedGop, brokenLink: h.brokenLink, timeCode });
    this.counts.gop++;
  }

  #addSequenceHeader(bytes: Uint8Array): void {
    this.#sequence.header(bytes);
    this.counts.seq++;
  }

  #applyExtension(bytes: Uint8Array): void {
    const id = bytes.length > START_CODE_BYTES ? (bytes[START_CODE_BYTES] as number) >> 4 : -1;
    if (this.#sequence.afterHeader && this.#sequence.extension(bytes, id)) return;
    if (id === SEQUENCE_DISPLAY_EXTENSION_ID) {
      this.display ??= parseSequenceDisplayExtension(bytes, 0);
      return;
    }
    if (this.#expectCodingExtension) {
      this.#expectCodingExtension = false;
      if (id !== PICTURE_CODING_EXTENSION_ID) {
        if (this.#sequence.format === "mpeg2") this.#missingCodingExtension();
        return;
      }
      // The first picture's whole extension, once: its field order is the stream's (what ffprobe reports).
      this.firstCoding ??= parsePictureCodingExtension(bytes, 0);
      const structure = parsePictureStructure(bytes, 0);
      if (this.#hasPicture) this.#picture.structure = structure;
      this.#sequence.codingExtensionSeen();
    }
  }

  #missingCodingExtension(): void {
    this.#expectCodingExtension = false;
    if (this.#sequence.format !== "mpeg2") return;
    this.#errors.missingCodingExtension(this.#hasPicture ? this.#picture.offset : this.#pending.offset);
  }
}
