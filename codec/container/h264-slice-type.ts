/** @module H.264 picture type from the first VCL NAL unit's slice header (ITU-T H.264 7.3.1, 7.3.3, Table 7-6). */

import { CodecError } from "../codec-error.ts";
import type { PictureType } from "../recording-index.ts";
import type { H264Sps } from "./h264-sps.ts";
import { RbspBits } from "./rbsp-bits.ts";

/** nal_unit_type values, ITU-T H.264 Table 7-1. */
export const NAL_SLICE_NON_IDR = 1;
export const NAL_SLICE_DATA_PARTITION_A = 2;
export const NAL_SLICE_IDR = 5;
export const NAL_SPS = 7;
export const NAL_ACCESS_UNIT_DELIMITER = 9;
/**
 * NAL units looked at before giving up on a sample's first slice. Encoders put a few before it (AUD, SEI,
 * SPS, PPS); a bound keeps a damaged prefix of zero-length NALs from costing a step per byte.
 */
const MAX_NALS_BEFORE_SLICE = 64;
/** slice_type % 5 -> picture type, ITU-T H.264 Table 7-6 (SP is predicted like P, SI intra like I). */
const SLICE_TYPES: readonly PictureType[] = ["P", "B", "I", "P", "I"];

export interface SliceInfo {
  nalUnitType: number;
  /** IDR picture (nal_unit_type 5): decoding can start here with nothing before it. */
  idr: boolean;
  firstMbInSlice: number;
  type: PictureType;
  /** With an SPS: field_pic_flag / bottom_field_flag (7.3.3); frame otherwise. */
  structure: "frame" | "top" | "bottom";
  /** With an SPS of pic_order_cnt_type 0: pic_order_cnt_lsb; -1 otherwise. */
  pocLsb: number;
}

export function isVclSliceNal(nalUnitType: number): boolean {
  return (
    nalUnitType === NAL_SLICE_NON_IDR ||
    nalUnitType === NAL_SLICE_DATA_PARTITION_A ||
    nalUnitType === NAL_SLICE_IDR
  );
}

/**
 * Reads the slice header start of the NAL unit at bytes[offset, end) (offset at the NAL header byte).
 * Returns undefined when it is not a slice NAL or its header is cut off or invalid.
 */
export function parseSliceHeaderStart(
  bytes: Uint8Array,
  offset: number,
  end = bytes.length,
  sps?: H264Sps,
): SliceInfo | undefined {
  if (offset >= end) return undefined;
  const header = bytes[offset]!;
  if (header & 0x80) return undefined; // forbidden_zero_bit
  const nalUnitType = header & 0x1f;
  if (!isVclSliceNal(nalUnitType)) return undefined;
  try {
    return readSliceHeaderStart(new RbspBits(bytes, offset + 1, end), nalUnitType, sps);
  } catch (e) {
    // Cut off or an over-long ue(v): not a slice header this can read, which the contract says is undefined.
    if (e instanceof CodecError) return undefined;
    throw e;
  }
}

function readSliceHeaderStart(
  bits: RbspBits,
  nalUnitType: number,
  sps: H264Sps | undefined,
): SliceInfo | undefined {
  const firstMbInSlice = bits.readUe();
  const sliceType = bits.readUe();
  if (sliceType > 9) return undefined;
  const idr = nalUnitType === NAL_SLICE_IDR;
  const info: SliceInfo = {
    nalUnitType,
    idr,
    firstMbInSlice,
    type: SLICE_TYPES[sliceType % 5]!,
    structure: "frame",
    pocLsb: -1,
  };
  if (!sps) return info;
  // The rest of the slice header up to pic_order_cnt_lsb, ITU-T H.264 7.3.3.
  bits.readUe(); // pic_parameter_set_id
  if (sps.separateColourPlane) bits.readBits(2); // colour_plane_id
  bits.readBits(sps.log2MaxFrameNum); // frame_num
  if (!sps.frameMbsOnly && bits.readBit() === 1) {
    info.structure = bits.readBit() === 1 ? "bottom" : "top"; // field_pic_flag, bottom_field_flag
  }
  if (idr) bits.readUe(); // idr_pic_id
  if (sps.picOrderCntType === 0) info.pocLsb = bits.readBits(sps.log2MaxPocLsb);
  return info;
}

/**
 * The first slice of an MP4/AVC sample: NAL units each prefixed by a big-endian length of `lengthSize`
 * bytes (avcC lengthSizeMinusOne + 1, ISO/IEC 14496-15 5.3.3). Returns undefined if no slice header is in
 * the bytes given (a prefix of the sample is enough).
 */
export function firstSliceOfLengthPrefixedSample(
  sample: Uint8Array,
  lengthSize: number,
): SliceInfo | undefined {
  let p = 0;
  for (let nals = 0; p + lengthSize < sample.length && nals < MAX_NALS_BEFORE_SLICE; nals++) {
    let nalLength = 0;
    for (let i = 0; i < lengthSize; i++) nalLength = nalLength * 256 + sample[p + i]!;
    p += lengthSize;
    if (nalLength === 0) continue;
    const end = Math.min(sample.length, p + nalLength);
    const slice = parseSliceHeaderStart(sample, p, end);
    if (slice) return slice;
    p += nalLength;
  }
  return undefined;
}
