/** @module What a container demuxer hands on: video elementary-stream pieces with their file positions, and errors. */

import type { VideoFormat } from "../recording-index.ts";

export interface DemuxSink {
  /**
   * A contiguous piece of the video elementary stream: bytes[start, end), valid only during the call (a
   * range rather than a view, because creating ~500k small views per second was the demuxers' main cost).
   * Its first byte is at file offset `fileOffset`; the container unit carrying it (the whole PES packet in a
   * Program Stream, the whole 188/192-byte packet in a Transport Stream) spans `unitOffset`..+`unitLength`.
   */
  video(
    bytes: Uint8Array,
    start: number,
    end: number,
    fileOffset: number,
    unitOffset: number,
    unitLength: number,
  ): void;
  /**
   * Optional: a block of consecutive video elementary-stream bytes, `es` (valid only during the call), and the
   * runs of container units that carried them (VideoBlock.runs: `runCount` runs of file offset, unit offset,
   * ES bytes per unit and unit count; units are `unitLength` bytes apart). A demuxer that gathers video (the TS
   * demuxer) hands it on this way where the sink takes it, and as the same pieces through video() where not.
   */
  videoBlock?(es: Uint8Array, runs: Float64Array, runCount: number, unitLength: number): void;
  /**
   * Optional: a video PES header carried a PTS (and a DTS, else `dts` equals `pts`: ISO/IEC 13818-1 2.7.5),
   * 90 kHz. Its payload's first byte is the next ES byte the sink will receive after `pendingBytes` more
   * (video a demuxer has gathered but not yet handed on).
   */
  timestamps?(pts: number, dts: number, pendingBytes: number): void;
  /** A container problem at a file offset; demuxing goes on. */
  error(offset: number, code: string, message: string): void;
  /** The video coding format as the container declares it (TS stream_type), once known. */
  format(format: VideoFormat): void;
}
