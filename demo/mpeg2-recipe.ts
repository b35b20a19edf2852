/** @module The ffmpeg arguments for a synthetic MPEG-2 recording from a lavfi source, with a broadcast-like GOP. */

export interface Mpeg2Recipe {
  /** lavfi graph, e.g. "testsrc=size=352x288:rate=25:duration=4". */
  source: string;
  /** Output format: "mpeg2video" (elementary stream), "vob" (Program Stream), "mpegts". */
  format: string;
  /** Cut the source after this many seconds (omit when the graph ends by itself). */
  seconds?: number;
  /** Target video bitrate, e.g. "2M"; ffmpeg's default when omitted. */
  bitrate?: string;
  /**
   * Rate-control buffer in bits, e.g. "1835k" (about the MP@ML VBV size, ISO/IEC 13818-2 Table 8-13): with it the bitrate is
   * also the maximum, so the stream stays as even as a broadcast one. Needs `bitrate`.
   */
  bufsize?: string;
  /** Overwrite an existing output file (ffmpeg -y). */
  overwrite?: boolean;
}

/**
 * GOP of 12 with two B-pictures between references (ISO/IEC 13818-2 M=3, N=12), as broadcast and DVD recorders
 * write: every picture type appears, so a split has I-pictures to protect and P/B-pictures to send directly.
 * The output path goes after these arguments.
 */
export function mpeg2RecordingArgs(r: Mpeg2Recipe): string[] {
  return [
    "-v",
    "error",
    ...(r.overwrite ? ["-y"] : []),
    "-f",
    "lavfi",
    "-i",
    r.source,
    ...(r.seconds === undefined ? [] : ["-t", String(r.seconds)]),
    "-c:v",
    "mpeg2video",
    "-g",
    "12",
    "-bf",
    "2",
    ...(r.bitrate === undefined ? [] : ["-b:v", r.bitrate]),
    ...(r.bitrate === undefined || r.bufsize === undefined
      ? []
      : ["-maxrate", r.bitrate, "-bufsize", r.bufsize]),
    "-f",
    r.format,
  ];
}
