/** @module What a second reader of a recording's video (the pattern planners) is told as RecordingIndexer scans it. */
import type { PictureRecord } from "../recording-index.ts";

/**
 * Sees the video elementary stream as the indexer scans it, so a second reader (the pattern planner) needs no
 * demux and no scan of its own. startCode() for MPEG-1/2 video, h264Slice() for H.264 in PS/TS; neither for
 * HEVC or MP4 video.
 */
export interface VideoObserver {
  /**
   * Every start code in ES order, slices included: its code byte and the ES offset of its 00 00 01.
   * During the call, esToFile() maps any ES bytes of the picture still open.
   */
  startCode(code: number, esOffset: number): void;
  /** The video ends at ES offset `esLength` (in finish()); esToFile() still maps the open picture's bytes. */
  end(esLength: number): void;
  /** H.264: each coded slice NAL unit as it ends (H264SliceObserver); esToFile() maps its bytes during the call. */
  h264Slice?(nalStart: number, dataStart: number, nalEnd: number): void;
  /**
   * MPEG-1/2: each picture once final, in ES order, after the start codes up to its end. An observer that takes
   * them keeps what it needs itself, and the indexer forgets each one afterwards (as with `retainPictures:
   * false`): its list would grow with the recording (156 000 pictures in 4 GiB of SD video, issue 14).
   */
  picture?(p: PictureRecord): void;
  /**
   * Every run of ES-to-file units (EsUnitMap) once final, in ES order: all of them by the end of finish().
   * Read when the observer is given to the constructor.
   */
  unitRun?(es: number, length: number, file: number, unitLength: number, count: number): void;
}
