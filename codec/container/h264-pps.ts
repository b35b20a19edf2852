/** @module H.264 picture parameter set: the fields a slice header's length depends on (ITU-T H.264 7.3.2.2). */

import { isBitsExhausted } from "../bits-exhausted.ts";
import { CodecError, codecError } from "../codec-error.ts";
import { RbspBits } from "./rbsp-bits.ts";

/** nal_unit_type of a picture parameter set, ITU-T H.264 Table 7-1. */
export const NAL_PPS = 8;
/** pic_parameter_set_id range, 7.4.2.2. */
const MAX_PPS_ID = 255;
/** seq_parameter_set_id range, 7.4.2.1.1. */
const MAX_SPS_ID = 31;
/** num_slice_groups_minus1 range, Annex A (at most 8 slice groups). */
const MAX_SLICE_GROUPS_MINUS1 = 7;
/** num_ref_idx_l0/l1_default_active_minus1 range, 7.4.2.2. */
const MAX_REF_IDX_MINUS1 = 31;
/** slice_group_map_type values that carry slice_group_change_cycle in slice headers (box-out, raster, wipe), 7.4.3. */
const CHANGING_SLICE_GROUP_TYPES = new Set([3, 4, 5]);

export interface H264Pps {
  ppsId: number;
  spsId: number;
  /** entropy_coding_mode_flag: CABAC (true) or CAVLC. */
  cabac: boolean;
  bottomFieldPicOrderInFramePresent: boolean;
  numSliceGroupsMinus1: number;
  sliceGroupMapType: number;
  /** slice_group_change_rate_minus1 + 1 (1 when the map type has none). */
  sliceGroupChangeRate: number;
  numRefIdxL0DefaultActiveMinus1: number;
  numRefIdxL1DefaultActiveMinus1: number;
  weightedPred: boolean;
  weightedBipredIdc: number;
  deblockingFilterControlPresent: boolean;
  redundantPicCntPresent: boolean;
}

function fail(message: string, offset: number): never {
  throw codecError("ERR_H264_PPS", `Cannot parse H.264 PPS: ${message}`, offset);
}

/**
 * Parses the PPS NAL unit at bytes[offset, end) (offset at the NAL header byte) up to the fields slice headers
 * need; the trailing transform_8x8 extension is not read. `picSizeInMapUnits` (from its SPS) sizes
 * slice_group_id[] of map type 6; without it such a PPS is refused. Throws CodecError ERR_H264_PPS.
 */
export function parseH264Pps(
  bytes: Uint8Array,
  offset: number,
  end = bytes.length,
  picSizeInMapUnits?: number,
): H264Pps {
  if (offset >= end || (bytes[offset]! & 0x1f) !== NAL_PPS) fail("not a PPS NAL unit", offset);
  try {
    return readPps(new RbspBits(bytes, offset + 1, end), offset, picSizeInMapUnits);
  } catch (e) {
    if (isBitsExhausted(e)) fail("it is cut off", offset);
    if (e instanceof CodecError && e.code === "ERR_EXP_GOLOMB")
      fail("a ue(v) field is longer than 32 bits", offset);
    throw e;
  }
}

function readPps(r: RbspBits, offset: number, picSizeInMapUnits: number | undefined): H264Pps {
  const ppsId = r.readUe();
  if (ppsId > MAX_PPS_ID) fail(`pic_parameter_set_id ${ppsId} is above ${MAX_PPS_ID}`, offset);
  const spsId = r.readUe();
  if (spsId > MAX_SPS_ID) fail(`seq_parameter_set_id ${spsId} is above ${MAX_SPS_ID}`, offset);
  const cabac = r.readBit() === 1;
  const bottomFieldPicOrderInFramePresent = r.readBit() === 1;
  const numSliceGroupsMinus1 = r.readUe();
  if (numSliceGroupsMinus1 > MAX_SLICE_GROUPS_MINUS1)
    fail(`num_slice_groups_minus1 ${numSliceGroupsMinus1} is above ${MAX_SLICE_GROUPS_MINUS1}`, offset);
  let sliceGroupMapType = 0;
  let sliceGroupChangeRate = 1;
  if (numSliceGroupsMinus1 > 0) {
    sliceGroupMapType = r.readUe();
    if (sliceGroupMapType === 0) {
      for (let i = 0; i <= numSliceGroupsMinus1; i++) r.readUe(); // run_length_minus1
    } else if (sliceGroupMapType === 2) {
      for (let i = 0; i < numSliceGroupsMinus1; i++) {
        r.readUe(); // top_left
        r.readUe(); // bottom_right
      }
    } else if (CHANGING_SLICE_GROUP_TYPES.has(sliceGroupMapType)) {
      r.readBit(); // slice_group_change_direction_flag
      sliceGroupChangeRate = r.readUe() + 1;
    } else if (sliceGroupMapType === 6) {
      const units = r.readUe() + 1; // pic_size_in_map_units_minus1
      if (picSizeInMapUnits === undefined || units !== picSizeInMapUnits)
        fail(`slice group map of ${units} units does not match its SPS`, offset);
      const bits = Math.ceil(Math.log2(numSliceGroupsMinus1 + 1));
      for (let i = 0; i < units; i++) r.readBits(bits); // slice_group_id
    } else if (sliceGroupMapType !== 1) {
      fail(`slice_group_map_type ${sliceGroupMapType} is above 6`, offset);
    }
  }
  const numRefIdxL0DefaultActiveMinus1 = r.readUe();
  const numRefIdxL1DefaultActiveMinus1 = r.readUe();
  if (
    numRefIdxL0DefaultActiveMinus1 > MAX_REF_IDX_MINUS1 ||
    numRefIdxL1DefaultActiveMinus1 > MAX_REF_IDX_MINUS1
  )
    fail("num_ref_idx_default_active_minus1 is above 31", offset);
  const weightedPred = r.readBit() === 1;
  const weightedBipredIdc = r.readBits(2);
  if (weightedBipredIdc === 3) fail("weighted_bipred_idc is 3", offset);
  r.readSe(); // pic_init_qp_minus26
  r.readSe(); // pic_init_qs_minus26
  r.readSe(); // chroma_qp_index_offset
  const deblockingFilterControlPresent = r.readBit() === 1;
  r.readBit(); // constrained_intra_pred_flag
  const redundantPicCntPresent = r.readBit() === 1;
  return {
    ppsId,
    spsId,
    cabac,
    bottomFieldPicOrderInFramePresent,
    numSliceGroupsMinus1,
    sliceGroupMapType,
    sliceGroupChangeRate,
    numRefIdxL0DefaultActiveMinus1,
    numRefIdxL1DefaultActiveMinus1,
    weightedPred,
    weightedBipredIdc,
    deblockingFilterControlPresent,
    redundantPicCntPresent,
  };
}

/** Whether slice headers under this PPS carry slice_group_change_cycle (7.3.3). */
export function hasSliceGroupChangeCycle(pps: H264Pps): boolean {
  return pps.numSliceGroupsMinus1 > 0 && CHANGING_SLICE_GROUP_TYPES.has(pps.sliceGroupMapType);
}
