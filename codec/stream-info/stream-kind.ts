/** @module What kind of stream a TS stream_type or a PS stream_id names (ISO/IEC 13818-1 Table 2-34, 2-22). */
import type { StreamRecord } from "../recording-index.ts";

type Kind = Pick<StreamRecord, "kind" | "codec">;

/** streamsSeen keys of private_stream_1 sub-streams (the PS demuxer counts them): above every stream_id. */
export const PRIVATE_SUBSTREAM_KEY = 0x100;

/** stream_type values inspect names, ISO/IEC 13818-1 Table 2-34 (0x81: ATSC A/52 Annex A, 0x87: E-AC-3). */
const STREAM_TYPES = new Map<number, Kind>([
  [0x01, { kind: "video", codec: "mpeg1" }],
  [0x02, { kind: "video", codec: "mpeg2" }],
  [0x03, { kind: "audio", codec: "mpeg-audio" }], // ISO/IEC 11172-3
  [0x04, { kind: "audio", codec: "mpeg-audio" }], // ISO/IEC 13818-3
  [0x05, { kind: "data", codec: null }], // private_sections
  [0x06, { kind: "data", codec: null }], // PES packets with private data (descriptors say which)
  [0x0f, { kind: "audio", codec: "aac" }], // ISO/IEC 13818-7 ADTS
  [0x10, { kind: "video", codec: "mpeg4" }], // ISO/IEC 14496-2
  [0x11, { kind: "audio", codec: "aac_latm" }], // ISO/IEC 14496-3 LATM
  [0x15, { kind: "data", codec: null }], // metadata in PES
  [0x1b, { kind: "video", codec: "h264" }], // ITU-T H.264 | ISO/IEC 14496-10
  [0x24, { kind: "video", codec: "hevc" }], // ITU-T H.265
  [0x81, { kind: "audio", codec: "ac3" }],
  [0x87, { kind: "audio", codec: "eac3" }],
]);

/** The kind of a PMT or program stream map stream_type. */
export function kindOfStreamType(streamType: number): Kind {
  return STREAM_TYPES.get(streamType) ?? { kind: "data", codec: null };
}

/** stream_id ranges, ISO/IEC 13818-1 Table 2-22. */
const AUDIO_FIRST = 0xc0;
const AUDIO_LAST = 0xdf;
const VIDEO_FIRST = 0xe0;
const VIDEO_LAST = 0xef;
/**
 * Sub-stream ids inside private_stream_1 as DVD-Video lays them out (not ISO: the DVD specification, as ffmpeg
 * and every DVD player read them): 0x20-0x3F sub-pictures, 0x80-0x87 AC-3, 0x88-0x8F DTS, 0xA0-0xA7 LPCM.
 */
const SUBSTREAMS: ReadonlyArray<readonly [number, number, Kind]> = [
  [0x20, 0x3f, { kind: "subtitle", codec: "dvd_subtitle" }],
  [0x80, 0x87, { kind: "audio", codec: "ac3" }],
  [0x88, 0x8f, { kind: "audio", codec: "dts" }],
  [0xa0, 0xa7, { kind: "audio", codec: "pcm_dvd" }],
];

/** The kind of a Program Stream stream_id without a program stream map. */
export function kindOfStreamId(streamId: number): Kind {
  if (streamId >= AUDIO_FIRST && streamId <= AUDIO_LAST) return { kind: "audio", codec: "mpeg-audio" };
  if (streamId >= VIDEO_FIRST && streamId <= VIDEO_LAST) return { kind: "video", codec: null };
  return { kind: "data", codec: null };
}

/** The kind of a private_stream_1 sub-stream (its payload's first byte). */
export function kindOfSubstream(substreamId: number): Kind {
  for (const [first, last, kind] of SUBSTREAMS) if (substreamId >= first && substreamId <= last) return kind;
  return { kind: "data", codec: null };
}
