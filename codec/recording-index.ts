/** @module The index of a recording: what `pvrlink inspect --json` prints and what split/merge route by. */

/** Container, detected by content (never by file name). */
export type ContainerKind = "es" | "ps" | "ts" | "m2ts" | "mp4";
/** Video coding format of the indexed track. */
export type VideoFormat = "mpeg1" | "mpeg2" | "h264" | "hevc" | "unknown";
/** picture_coding_type (ISO/IEC 13818-2 6.3.9, Table 6-12); for H.264 the primary slice type. */
export type PictureType = "I" | "P" | "B" | "D";
/** picture_structure (ISO/IEC 13818-2 6.3.10, Table 6-14); MPEG-1 and progressive streams are "frame". */
export type PictureStructure = "frame" | "top" | "bottom";

/** One coded picture in stream (decode) order; each field of a field-picture frame is its own entry. */
export interface PictureRecord {
  /** 0, 1, 2, ... in stream order. */
  serial: number;
  type: PictureType;
  structure: PictureStructure;
  /** Start of the picture (its picture_start_code) in the video elementary stream; for MP4, in the file. */
  offset: number;
  /** Bytes up to the next picture, GOP, sequence header or sequence end (or the end of the stream). */
  length: number;
  /** Index into `gops` of the GOP this picture belongs to, or -1 before the first GOP header. */
  gop: number;
  /** temporal_reference (ISO/IEC 13818-2 6.3.9); for MP4, the sample's composition order. */
  temporalReference: number;
}

/** One group_of_pictures_header (ISO/IEC 13818-2 6.2.2.6); for MP4, one sync sample. */
export interface GopRecord {
  /** Offset of the GOP start code in the video elementary stream (file offset for MP4). */
  offset: number;
  closed: boolean;
  brokenLink: boolean;
}

/** A problem found while indexing; indexing continues at the next sequence, GOP or picture header. */
export interface IndexError {
  /** Where it was found: elementary-stream offset for ES-level errors, file offset for container errors. */
  offset: number;
  /** Stable code, e.g. ERR_PICTURE_TYPE, ERR_TS_CONTINUITY. */
  code: string;
  message: string;
}

export interface PictureCounts {
  seq: number;
  gop: number;
  pic: number;
  I: number;
  P: number;
  B: number;
  D: number;
}

/** A byte range of the original file, [offset, offset + length). */
export interface ByteRange {
  offset: number;
  length: number;
}

/** Everything inspect reports plus the file ranges that carry I-picture data. */
export interface RecordingIndex {
  container: ContainerKind;
  format: VideoFormat;
  width: number;
  height: number;
  counts: PictureCounts;
  gops: GopRecord[];
  pictures: PictureRecord[];
  errors: IndexError[];
  /**
   * File ranges that must travel protected: every byte of every I-picture (for PS/TS the whole PES or TS
   * packets carrying them). Sorted, non-overlapping, adjacent ranges coalesced.
   */
  protectedRanges: ByteRange[];
}
