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
  /** time_code (ISO/IEC 13818-2 6.3.8) as HH:MM:SS:FF (";FF" for drop frame); absent for H.264 and MP4. */
  timeCode?: string;
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
  /** Present when the indexer was asked for details (inspect). */
  details?: RecordingDetails;
}

/** A ratio as [numerator, denominator], reduced: frame rates (25/1) and aspect ratios (16:9). */
export type Ratio = readonly [number, number];

/** What the video's own headers say of the stream, as ffprobe -show_streams reports it; null where unsaid. */
export interface VideoStreamInfo {
  /** "Main", "High", ... (ISO/IEC 13818-2 Table 8-2; ITU-T H.264 A.2); null for MPEG-1. */
  profile: string | null;
  /** level as coded: ISO/IEC 13818-2 Table 8-3 (8 = Main), or H.264 level_idc (31 = 3.1). */
  level: number | null;
  /** "4:2:0", "4:2:2", "4:4:4" or "4:0:0" (monochrome H.264). */
  chromaFormat: string | null;
  /** Frames per second as a ratio (ISO/IEC 13818-2 6.3.3, 6.3.5; ITU-T H.264 E.2.1). */
  frameRate: Ratio | null;
  sampleAspectRatio: Ratio | null;
  displayAspectRatio: Ratio | null;
  /** The bit rate the sequence header declares (bit/s; 400 bit/s units, ISO/IEC 13818-2 6.3.3). */
  bitRate: number | null;
  /** progressive_sequence (MPEG-2), frame_mbs_only_flag (H.264); MPEG-1 is always progressive. */
  progressive: boolean | null;
  /** "progressive", "tt" (top field first) or "bb", from the first picture, as ffprobe's field_order. */
  fieldOrder: "progressive" | "tt" | "bb" | null;
  /** The first GOP's time_code, HH:MM:SS:FF. */
  timeCode: string | null;
  /** Seconds: from the PTS span where the container carries them, else frames / frame rate. */
  duration: number | null;
}

/** One elementary stream of a PS or TS, video included, in order of first appearance. */
export interface StreamRecord {
  /** PS: stream_id, or the sub-stream id inside private_stream_1; TS: the PID. */
  id: number;
  kind: "video" | "audio" | "subtitle" | "data";
  /** A short codec name where the stream type or id says it ("ac3", "aac", "mpeg-audio", "h264", ...). */
  codec: string | null;
  /** stream_type from the PMT or program stream map (ISO/IEC 13818-1 Table 2-34), or null. */
  streamType: number | null;
}

/**
 * What inspect adds to the index (RecordingIndexerOptions.details): stream properties, the other streams,
 * and per picture (parallel to `pictures`) its packet position and time stamps.
 */
export interface RecordingDetails {
  video: VideoStreamInfo;
  streams: StreamRecord[];
  /**
   * File offset of the container unit (PES packet, TS packet) carrying the first byte of the picture's
   * packet as ffprobe's pkt_pos counts it: the headers before a picture travel with it. For ES and MP4 the
   * byte itself.
   */
  pos: number[];
  /**
   * PTS and DTS of the PES in which the picture starts (90 kHz, ISO/IEC 13818-1 2.4.3.7), or of the MP4
   * sample (its track's timescale, the edit list applied: ISO/IEC 14496-12 8.6.1, 8.6.6); null where none.
   */
  pts: (number | null)[];
  dts: (number | null)[];
  /** Ticks per second of pts and dts (90000 for PS/TS), or null where the container gives no clock. */
  timeScale: number | null;
}
