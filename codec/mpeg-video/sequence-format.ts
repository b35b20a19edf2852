/** @module What a stream's sequence headers say: MPEG-1 or MPEG-2 (ISO/IEC 13818-2 6.1.1.6) and the picture size. */
import type { VideoFormat } from "../recording-index.ts";
import { parseSequenceExtension, type SequenceExtension } from "./sequence-extension.ts";
import { parseSequenceHeader, type SequenceHeader } from "./sequence-header.ts";
import { SEQUENCE_EXTENSION_ID } from "./start-codes.ts";

/**
 * The sequence-level state of VideoIndexer. The format is decided once, by the first sequence header's
 * follower (a sequence extension makes MPEG-2, anything else MPEG-1) or, in a stream joined mid-way, by the
 * first picture coding extension; the size follows the latest sequence header and extension.
 */
export class SequenceFormat {
  format: VideoFormat = "unknown";
  width = 0;
  height = 0;
  /** A sequence header has been seen (or its absence reported: the indexer reports that once). */
  seen = false;
  /** The previous start code was a valid sequence header, so an extension now tells MPEG-2 from MPEG-1. */
  afterHeader = false;
  /** The first valid sequence header and sequence extension: what inspect reports of the stream. */
  firstHeader: SequenceHeader | null = null;
  firstExtension: SequenceExtension | null = null;
  #horizontal = 0;
  #vertical = 0;

  /** A sequence header's bytes, start code first. Throws CodecError, after marking the header as seen. */
  header(bytes: Uint8Array): void {
    this.seen = true;
    const h = parseSequenceHeader(bytes, 0);
    this.afterHeader = true;
    this.firstHeader ??= h;
    this.#horizontal = h.horizontalSize;
    this.#vertical = h.verticalSize;
    this.width = h.horizontalSize;
    this.height = h.verticalSize;
  }

  /** ISO/IEC 13818-2 6.1.1.6: a sequence header followed by a sequence extension is MPEG-2, otherwise MPEG-1. */
  decide(mpeg2: boolean): void {
    this.afterHeader = false;
    if (this.format === "unknown") this.format = mpeg2 ? "mpeg2" : "mpeg1";
  }

  /**
   * The extension (identifier `id`) right after a sequence header: decides the format, and when it is the
   * sequence extension takes its size bits and returns true. Throws CodecError for a damaged one.
   */
  extension(bytes: Uint8Array, id: number): boolean {
    this.decide(id === SEQUENCE_EXTENSION_ID);
    if (id !== SEQUENCE_EXTENSION_ID) return false;
    const x = parseSequenceExtension(bytes, 0);
    this.firstExtension ??= x;
    this.width = (x.horizontalSizeExtension << 12) | this.#horizontal;
    this.height = (x.verticalSizeExtension << 12) | this.#vertical;
    return true;
  }

  /** Only ISO/IEC 13818-2 has picture coding extensions: a stream joined mid-way is MPEG-2 once one parses. */
  codingExtensionSeen(): void {
    if (this.format === "unknown") this.format = "mpeg2";
  }
}
