/** @module H.264 sequence parameter set: picture size and the fields slice headers depend on (ITU-T H.264 7.3.2.1.1). */

import { isBitsExhausted } from "../bits-exhausted.ts";
import { CodecError, codecError } from "../codec-error.ts";
import { RbspBits } from "./rbsp-bits.ts";

/** profile_idc values whose SPS carries chroma_format_idc and bit depths, ITU-T H.264 7.3.2.1.1. */
const HIGH_PROFILES = new Set([100, 110, 122, 244, 44, 83, 86, 118, 128, 138, 139, 134, 135]);
const CHROMA_444 = 3;
const MB_SIZE = 16;
/** aspect_ratio_idc 255, Extended_SAR: sar_width and sar_height follow (ITU-T H.264 Table E-1). */
const EXTENDED_SAR = 255;
/** sample_aspect_ratio by aspect_ratio_idc 1..16, ITU-T H.264 Table E-1 (0 is unspecified). */
const SAR_TABLE: ReadonlyArray<readonly [number, number]> = [
  [0, 0],
  [1, 1],
  [12, 11],
  [10, 11],
  [16, 11],
  [40, 33],
  [24, 11],
  [20, 11],
  [32, 11],
  [80, 33],
  [18, 11],
  [15, 11],
  [64, 33],
  [160, 99],
  [4, 3],
  [3, 2],
  [2, 1],
];

/** What vui_parameters() (ITU-T H.264 E.1.1) says of display: sample aspect ratio and timing. */
export interface H264Vui {
  /** sample_aspect_ratio as [width, height], or null when unspecified. */
  sar: readonly [number, number] | null;
  /** num_units_in_tick and time_scale (E.2.1), or null without timing_info. */
  timing: { numUnitsInTick: number; timeScale: number } | null;
}

export interface H264Sps {
  profileIdc: number;
  /** constraint_set0..5_flag and reserved_zero_2bits, the byte between profile_idc and level_idc. */
  constraintFlags: number;
  levelIdc: number;
  spsId: number;
  chromaFormatIdc: number;
  separateColourPlane: boolean;
  log2MaxFrameNum: number;
  picOrderCntType: number;
  /** log2_max_pic_order_cnt_lsb (only for picOrderCntType 0). */
  log2MaxPocLsb: number;
  /** delta_pic_order_always_zero_flag (only for picOrderCntType 1; false otherwise). */
  deltaPicOrderAlwaysZero: boolean;
  frameMbsOnly: boolean;
  /** PicSizeInMapUnits = PicWidthInMbs × PicHeightInMapUnits (7.4.2.1.1): sizes slice_group_change_cycle. */
  picSizeInMapUnits: number;
  /** Display size after frame cropping. */
  width: number;
  height: number;
  /** The VUI's aspect and timing, or null without vui_parameters (or when the VUI is cut off). */
  vui: H264Vui | null;
}

function fail(message: string, offset: number): never {
  throw codecError("ERR_H264_SPS", `Cannot parse H.264 SPS: ${message}`, offset);
}

/** Parses the SPS NAL unit at bytes[offset, end) (offset at the NAL header byte); throws CodecError ERR_H264_SPS. */
export function parseH264Sps(bytes: Uint8Array, offset: number, end = bytes.length): H264Sps {
  try {
    return readSps(new RbspBits(bytes, offset + 1, end), offset);
  } catch (e) {
    // The cursor's two errors become this parser's one code.
    if (isBitsExhausted(e)) fail("it is cut off", offset);
    if (e instanceof CodecError && e.code === "ERR_EXP_GOLOMB")
      fail("a ue(v) field is longer than 32 bits", offset);
    throw e;
  }
}

function readSps(r: RbspBits, offset: number): H264Sps {
  const profileIdc = r.readBits(8);
  const constraintFlags = r.readBits(8);
  const levelIdc = r.readBits(8);
  const spsId = r.readUe();
  if (spsId > 31) fail(`seq_parameter_set_id ${spsId} is above 31`, offset);
  let chromaFormatIdc = 1;
  let separateColourPlane = false;
  if (HIGH_PROFILES.has(profileIdc)) {
    chromaFormatIdc = r.readUe();
    if (chromaFormatIdc > CHROMA_444) fail(`chroma_format_idc ${chromaFormatIdc} is above 3`, offset);
    if (chromaFormatIdc === CHROMA_444) separateColourPlane = r.readBit() === 1;
    r.readUe(); // bit_depth_luma_minus8
    r.readUe(); // bit_depth_chroma_minus8
    r.readBit(); // qpprime_y_zero_transform_bypass_flag
    if (r.readBit()) {
      const lists = chromaFormatIdc === CHROMA_444 ? 12 : 8;
      for (let i = 0; i < lists; i++) {
        if (!r.readBit()) continue;
        // scaling_list(): only parsed to step over it, ITU-T H.264 7.3.2.1.1.1.
        const size = i < 6 ? 16 : 64;
        let last = 8;
        let next = 8;
        for (let j = 0; j < size; j++) {
          if (next !== 0) next = (last + r.readSe() + 256) % 256;
          last = next === 0 ? last : next;
        }
      }
    }
  }
  const log2MaxFrameNum = r.readUe() + 4;
  const picOrderCntType = r.readUe();
  let log2MaxPocLsb = 0;
  let deltaPicOrderAlwaysZero = false;
  if (picOrderCntType === 0) {
    log2MaxPocLsb = r.readUe() + 4;
  } else if (picOrderCntType === 1) {
    deltaPicOrderAlwaysZero = r.readBit() === 1;
    r.readSe();
    r.readSe();
    const cycle = r.readUe();
    if (cycle > 255) fail(`num_ref_frames_in_pic_order_cnt_cycle ${cycle} is above 255`, offset);
    for (let i = 0; i < cycle; i++) r.readSe();
  } else if (picOrderCntType !== 2) {
    fail(`pic_order_cnt_type ${picOrderCntType} is above 2`, offset);
  }
  if (log2MaxFrameNum > 16 || log2MaxPocLsb > 16)
    fail("log2_max_frame_num or log2_max_pic_order_cnt_lsb is above 16", offset);
  r.readUe(); // max_num_ref_frames
  r.readBit(); // gaps_in_frame_num_value_allowed_flag
  const widthMbs = r.readUe() + 1;
  const heightMapUnits = r.readUe() + 1;
  const frameMbsOnly = r.readBit() === 1;
  if (!frameMbsOnly) r.readBit(); // mb_adaptive_frame_field_flag
  r.readBit(); // direct_8x8_inference_flag
  let crop = [0, 0, 0, 0];
  if (r.readBit()) crop = [r.readUe(), r.readUe(), r.readUe(), r.readUe()];
  // Crop units, ITU-T H.264 7.4.2.1.1 (frame_crop_*_offset semantics).
  const chromaArrayType = separateColourPlane ? 0 : chromaFormatIdc;
  const frameFactor = frameMbsOnly ? 1 : 2;
  const cropUnitX = chromaArrayType === 0 ? 1 : chromaFormatIdc === CHROMA_444 ? 1 : 2;
  const cropUnitY = (chromaArrayType === 0 ? 1 : chromaFormatIdc === 1 ? 2 : 1) * frameFactor;
  const width = widthMbs * MB_SIZE - cropUnitX * (crop[0]! + crop[1]!);
  const height = frameFactor * heightMapUnits * MB_SIZE - cropUnitY * (crop[2]! + crop[3]!);
  if (width <= 0 || height <= 0) fail(`cropping leaves ${width}x${height}`, offset);
  const vui = r.readBit() ? readVui(r) : null;
  return {
    profileIdc,
    constraintFlags,
    levelIdc,
    spsId,
    chromaFormatIdc,
    separateColourPlane,
    log2MaxFrameNum,
    picOrderCntType,
    log2MaxPocLsb,
    deltaPicOrderAlwaysZero,
    frameMbsOnly,
    picSizeInMapUnits: widthMbs * heightMapUnits,
    width,
    height,
    vui,
  };
}

/**
 * The start of vui_parameters() (ITU-T H.264 E.1.1) up to timing_info. Display information only: a VUI cut
 * off or malformed past the SPS's own fields gives null rather than failing the SPS the indexer relies on.
 */
function readVui(r: RbspBits): H264Vui | null {
  try {
    let sar: readonly [number, number] | null = null;
    if (r.readBit()) {
      const idc = r.readBits(8);
      if (idc === EXTENDED_SAR) {
        const w = r.readBits(16);
        const h = r.readBits(16);
        sar = w > 0 && h > 0 ? [w, h] : null;
      } else if (idc > 0 && idc < SAR_TABLE.length) {
        sar = SAR_TABLE[idc]!;
      }
    }
    if (r.readBit()) r.readBit(); // overscan_info_present_flag, overscan_appropriate_flag
    if (r.readBit()) {
      r.readBits(4); // video_format, video_full_range_flag
      if (r.readBit()) r.readBits(24); // colour_primaries, transfer_characteristics, matrix_coefficients
    }
    if (r.readBit()) {
      r.readUe(); // chroma_sample_loc_type_top_field
      r.readUe(); // chroma_sample_loc_type_bottom_field
    }
    let timing: H264Vui["timing"] = null;
    if (r.readBit()) {
      const numUnitsInTick = r.readBits(16) * 0x10000 + r.readBits(16);
      const timeScale = r.readBits(16) * 0x10000 + r.readBits(16);
      if (numUnitsInTick > 0 && timeScale > 0) timing = { numUnitsInTick, timeScale };
    }
    return { sar, timing };
  } catch (e) {
    if (isBitsExhausted(e) || e instanceof CodecError) return null;
    throw e;
  }
}
