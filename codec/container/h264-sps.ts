/** @module H.264 sequence parameter set: picture size and the fields slice headers depend on (ITU-T H.264 7.3.2.1.1). */

import { isBitsExhausted } from "../bits-exhausted.ts";
import { CodecError, codecError } from "../codec-error.ts";
import { RbspBits } from "./rbsp-bits.ts";

/** profile_idc values whose SPS carries chroma_format_idc and bit depths, ITU-T H.264 7.3.2.1.1. */
const HIGH_PROFILES = new Set([100, 110, 122, 244, 44, 83, 86, 118, 128, 138, 139, 134, 135]);
const CHROMA_444 = 3;
const MB_SIZE = 16;

export interface H264Sps {
  profileIdc: number;
  levelIdc: number;
  spsId: number;
  chromaFormatIdc: number;
  separateColourPlane: boolean;
  log2MaxFrameNum: number;
  picOrderCntType: number;
  /** log2_max_pic_order_cnt_lsb (only for picOrderCntType 0). */
  log2MaxPocLsb: number;
  frameMbsOnly: boolean;
  /** Display size after frame cropping. */
  width: number;
  height: number;
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
  r.readBits(8); // constraint_set flags, reserved_zero_2bits
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
  if (picOrderCntType === 0) {
    log2MaxPocLsb = r.readUe() + 4;
  } else if (picOrderCntType === 1) {
    r.readBit();
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
  return {
    profileIdc,
    levelIdc,
    spsId,
    chromaFormatIdc,
    separateColourPlane,
    log2MaxFrameNum,
    picOrderCntType,
    log2MaxPocLsb,
    frameMbsOnly,
    width,
    height,
  };
}
