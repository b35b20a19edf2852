/** @module Stream properties from the headers inspect's indexers keep: MPEG-1/2 sequence and GOP headers, H.264 SPS. */
import type { PictureCodingExtension } from "../mpeg-video/picture-coding-extension.ts";
import type { SequenceDisplayExtension } from "../mpeg-video/sequence-display-extension.ts";
import type { SequenceExtension } from "../mpeg-video/sequence-extension.ts";
import { FRAME_RATES, type SequenceHeader } from "../mpeg-video/sequence-header.ts";
import type { Ratio, VideoStreamInfo } from "../recording-index.ts";
import { multiply, nearestRatio, ratio } from "./ratio.ts";

/** bit_rate is counted in units of 400 bit/s, ISO/IEC 13818-2 6.3.3 (and ISO/IEC 11172-2 2.4.3.2). */
const BIT_RATE_UNIT = 400;
/** bit_rate_value is 18 bits; the sequence extension's bit_rate_extension supplies the 12 above (6.3.5). */
const BIT_RATE_VALUE_BITS = 18;
/** profile_and_level_indication: escape bit, 3-bit profile, 4-bit level (ISO/IEC 13818-2 8.1, Table 8-1). */
const PROFILE_ESCAPE = 0x80;
/** profile_identification names, ISO/IEC 13818-2 Table 8-2 (ffmpeg's spelling). */
const MPEG2_PROFILES = new Map<number, string>([
  [1, "High"],
  [2, "Spatially Scalable"],
  [3, "SNR Scalable"],
  [4, "Main"],
  [5, "Simple"],
]);
/** Escaped profile_and_level_indication values, ISO/IEC 13818-2 Table 8-1 (8.2, 4:2:2 profile). */
const MPEG2_ESCAPED_PROFILES = new Map<number, string>([
  [0x82, "4:2:2"],
  [0x85, "4:2:2"],
]);
/** chroma_format names, ISO/IEC 13818-2 Table 6-5; H.264 chroma_format_idc, ITU-T H.264 Table 6-1. */
const CHROMA_NAMES = ["4:0:0", "4:2:0", "4:2:2", "4:4:4"] as const;
/** aspect_ratio_information 1 is square samples; 2-4 give the display aspect ratio, ISO/IEC 13818-2 Table 6-3. */
const ASPECT_SQUARE = 1;
const MPEG2_DISPLAY_ASPECTS: ReadonlyArray<Ratio | null> = [null, null, [4, 3], [16, 9], [221, 100]];
/**
 * pel_aspect_ratio (height/width of a pel) by code 1-14, ISO/IEC 11172-2 2.4.3.2 Table; the sample aspect ratio
 * is its inverse.
 */
const MPEG1_PEL_ASPECTS = [
  0, 1, 0.6735, 0.7031, 0.7615, 0.8055, 0.8437, 0.8935, 0.9157, 0.9815, 1.0255, 1.0695, 1.095, 1.1575, 1.2015,
];
/** The largest numerator or denominator of an MPEG-1 sample aspect ratio (as ffmpeg rounds it). */
const MPEG1_SAR_MAX = 255;
/** H.264 profile_idc names, ITU-T H.264 A.2 (ffmpeg's spelling). */
const H264_PROFILES = new Map<number, string>([
  [44, "CAVLC 4:4:4"],
  [66, "Baseline"],
  [77, "Main"],
  [88, "Extended"],
  [100, "High"],
  [110, "High 10"],
  [122, "High 4:2:2"],
  [244, "High 4:4:4 Predictive"],
]);
/** constraint_set1_flag: a Baseline stream that is also Main-decodable is Constrained Baseline (A.2.1.1). */
const CONSTRAINT_SET1 = 0x40;
const H264_BASELINE = 66;

/** The MPEG-1/2 headers VideoIndexer keeps (the first of each). */
export interface MpegVideoHeaders {
  mpeg2: boolean;
  width: number;
  height: number;
  header: SequenceHeader | null;
  extension: SequenceExtension | null;
  display: SequenceDisplayExtension | null;
  coding: PictureCodingExtension | null;
  timeCode: string | null;
}

const NONE: VideoStreamInfo = {
  profile: null,
  level: null,
  chromaFormat: null,
  frameRate: null,
  sampleAspectRatio: null,
  displayAspectRatio: null,
  bitRate: null,
  progressive: null,
  fieldOrder: null,
  timeCode: null,
  duration: null,
};

/** An empty description, for video the indexer did not parse (HEVC, or no video at all). */
export function unknownVideoInfo(): VideoStreamInfo {
  return { ...NONE };
}

/** Stream properties of MPEG-1/2 video from its first sequence header, extensions and picture coding extension. */
export function mpegVideoInfo(h: MpegVideoHeaders): VideoStreamInfo {
  const info = unknownVideoInfo();
  info.timeCode = h.timeCode;
  const s = h.header;
  if (!s) return info;
  const x = h.mpeg2 ? h.extension : null;
  const rate = FRAME_RATES[s.frameRateCode];
  if (rate) {
    const [n, d] = x ? [x.frameRateExtensionN + 1, x.frameRateExtensionD + 1] : [1, 1];
    info.frameRate = ratio(rate[0] * n, rate[1] * d);
  }
  info.bitRate = ((x ? x.bitRateExtension * 2 ** BIT_RATE_VALUE_BITS : 0) + s.bitRateValue) * BIT_RATE_UNIT;
  const sar = h.mpeg2 ? mpeg2SampleAspect(s.aspectRatioCode, h) : mpeg1SampleAspect(s.aspectRatioCode);
  info.sampleAspectRatio = sar;
  info.displayAspectRatio = sar ? multiply(sar, [h.width, h.height]) : null;
  if (!x) {
    // MPEG-1 has neither profiles, chroma formats other than 4:2:0, nor interlace (ISO/IEC 11172-2 2.4.1).
    info.chromaFormat = CHROMA_NAMES[1];
    info.progressive = !h.mpeg2;
    return info;
  }
  const pl = x.profileAndLevel;
  info.profile =
    pl & PROFILE_ESCAPE
      ? (MPEG2_ESCAPED_PROFILES.get(pl) ?? null)
      : (MPEG2_PROFILES.get((pl >> 4) & 7) ?? null);
  info.level = pl & PROFILE_ESCAPE ? null : pl & 15;
  info.chromaFormat = CHROMA_NAMES[x.chromaFormat] ?? null;
  info.progressive = x.progressiveSequence;
  const c = h.coding;
  // As ffmpeg's parser: interlaced unless the sequence or the picture says progressive; then the first field.
  if (x.progressiveSequence || c?.progressiveFrame) info.fieldOrder = "progressive";
  else if (c) info.fieldOrder = c.topFieldFirst ? "tt" : "bb";
  return info;
}

/**
 * aspect_ratio_information 2-4 give the display aspect ratio of the display area (the sequence display
 * extension's, else the coded size), ISO/IEC 13818-2 6.3.3: the samples are that stretched over the area.
 */
function mpeg2SampleAspect(code: number, h: MpegVideoHeaders): Ratio | null {
  if (code === ASPECT_SQUARE) return [1, 1];
  const dar = MPEG2_DISPLAY_ASPECTS[code];
  if (!dar) return null;
  const w = h.display?.displayWidth || h.width;
  const v = h.display?.displayHeight || h.height;
  return ratio(dar[0] * v, dar[1] * w);
}

function mpeg1SampleAspect(code: number): Ratio | null {
  const pel = MPEG1_PEL_ASPECTS[code];
  if (!pel) return null;
  // ffmpeg keeps the table as 32-bit floats: the same float gives the same fraction.
  return code === ASPECT_SQUARE ? [1, 1] : nearestRatio(1 / Math.fround(pel), MPEG1_SAR_MAX);
}

/**
 * The fields of an SPS that h264VideoInfo reads. container/h264-sps.ts's H264Sps has them; it is named here
 * because stream-info sits below container (the indexers call into stream-info, never the reverse).
 */
export interface H264SpsFields {
  profileIdc: number;
  constraintFlags: number;
  levelIdc: number;
  chromaFormatIdc: number;
  frameMbsOnly: boolean;
  width: number;
  height: number;
  vui: {
    sar: readonly [number, number] | null;
    timing: { numUnitsInTick: number; timeScale: number } | null;
  } | null;
}

/** Stream properties of H.264 video from its first SPS and VUI. */
export function h264VideoInfo(sps: H264SpsFields | null): VideoStreamInfo {
  const info = unknownVideoInfo();
  if (!sps) return info;
  const name = H264_PROFILES.get(sps.profileIdc) ?? null;
  info.profile =
    sps.profileIdc === H264_BASELINE && sps.constraintFlags & CONSTRAINT_SET1 ? "Constrained Baseline" : name;
  info.level = sps.levelIdc;
  info.chromaFormat = CHROMA_NAMES[sps.chromaFormatIdc] ?? null;
  info.progressive = sps.frameMbsOnly;
  // Without frame_mbs_only the field order is per picture (pic_struct SEI), which inspect does not read.
  info.fieldOrder = sps.frameMbsOnly ? "progressive" : null;
  const vui = sps.vui;
  // A frame is two ticks of the clock: frame rate = time_scale / (2 * num_units_in_tick), ITU-T H.264 E.2.1.
  if (vui?.timing) info.frameRate = ratio(vui.timing.timeScale, 2 * vui.timing.numUnitsInTick);
  if (vui?.sar) {
    info.sampleAspectRatio = ratio(vui.sar[0], vui.sar[1]);
    info.displayAspectRatio = multiply(vui.sar, [sps.width, sps.height]);
  }
  return info;
}
