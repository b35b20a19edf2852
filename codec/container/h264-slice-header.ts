/** @module The whole H.264 slice header (ITU-T H.264 7.3.3): its fields and where slice_data() begins, for CENC subsample planning. */

import { isBitsExhausted } from "../bits-exhausted.ts";
import { CodecError, codecError } from "../codec-error.ts";
import { type H264Pps, hasSliceGroupChangeCycle } from "./h264-pps.ts";
import { NAL_SLICE_IDR, NAL_SLICE_NON_IDR } from "./h264-slice-type.ts";
import type { H264Sps } from "./h264-sps.ts";
import { RbspBits } from "./rbsp-bits.ts";

/** slice_type % 5, ITU-T H.264 Table 7-6. */
const SLICE_P = 0;
const SLICE_B = 1;
const SLICE_I = 2;
const SLICE_SP = 3;
const SLICE_SI = 4;
/** slice_type above 9 is reserved, Table 7-6. */
const MAX_SLICE_TYPE = 9;
/** modification_of_pic_nums_idc 3 ends ref_pic_list_modification(), Table 7-7. */
const END_OF_MODIFICATIONS = 3;
/** memory_management_control_operation 0 ends dec_ref_pic_marking(), Table 7-9. */
const END_OF_MMCO = 0;
/** A loop of operations longer than this is damage, not a header: a picture has at most 32 references (A.3.1). */
const MAX_LOOP_ENTRIES = 66;
/** num_ref_idx_lX_active_minus1 range for a field slice, 7.4.3. */
const MAX_REF_IDX_MINUS1 = 31;

/** What a slice header says; the fields an eavesdropper of a cbcs stream reads in the clear (docs/security.md). */
export interface H264SliceHeader {
  nalUnitType: number;
  nalRefIdc: number;
  firstMbInSlice: number;
  /** slice_type % 5: 0 P, 1 B, 2 I, 3 SP, 4 SI (Table 7-6). */
  sliceType: number;
  ppsId: number;
  frameNum: number;
  /** pic_order_cnt_lsb (pic_order_cnt_type 0), else -1. */
  pocLsb: number;
  sliceQpDelta: number;
  /**
   * Index (in the bytes given, emulation prevention bytes counted) of the first byte wholly after the slice
   * header: slice_data()'s first byte for CABAC (cabac_alignment_one_bit fills the byte, 7.3.4), and for CAVLC
   * the byte after the one holding the header's last bit, whose remaining bits are slice data.
   */
  dataOffset: number;
  /**
   * Bits of the byte before `dataOffset` that belong to the header (CAVLC: 1–7 when the header ends inside a
   * byte, whose remaining bits start slice_data()); 0 when slice_data() starts at `dataOffset` itself.
   */
  dataBitInByte: number;
  /** CABAC: how many cabac_alignment_one_bits end the header (7.3.4); 0 for CAVLC. */
  cabacAlignmentBits: number;
}

/** The parameter sets in force, by id, as the stream has carried them so far. */
export interface H264ParameterSets {
  sps(id: number): H264Sps | undefined;
  pps(id: number): H264Pps | undefined;
}

function fail(message: string, offset: number): never {
  throw codecError("ERR_H264_SLICE_HEADER", `Cannot parse H.264 slice header: ${message}`, offset);
}

/**
 * Parses the slice header of the coded slice NAL unit (type 1 or 5) at bytes[offset, end) (offset at the NAL
 * header byte) with the parameter sets it refers to. Throws CodecError ERR_H264_SLICE_HEADER when the NAL is
 * not such a slice, refers to a parameter set not seen, or is cut off or invalid.
 */
export function parseH264SliceHeader(
  bytes: Uint8Array,
  offset: number,
  end: number,
  sets: H264ParameterSets,
): H264SliceHeader {
  return parseInto(new RbspBits(bytes, offset + 1, end), { bytes, offset, end, sets }, emptyHeader());
}

/** Where a header is read from: the NAL unit bytes[offset, end) and the parameter sets in force. */
interface HeaderSource {
  bytes: Uint8Array;
  offset: number;
  end: number;
  sets: H264ParameterSets;
}

/**
 * parseH264SliceHeader()'s `dataOffset` alone, read with one reader, one source and one record reused from call
 * to call: the H.264 indexer asks it of every coded slice on a send in pattern mode (3,000 in a 60 MiB TS),
 * where a reader, a record, the objects passing the source and their garbage per slice cost pass 1 fresh heap
 * (~5 objects a slice; in a fresh process a few hundred page faults on a 32 MiB 320×240 clip). Throws as
 * parseH264SliceHeader() does.
 */
export function h264SliceDataOffset(
  bytes: Uint8Array,
  offset: number,
  end: number,
  sets: H264ParameterSets,
): number {
  reader.reset(bytes, offset + 1, end);
  source.bytes = bytes;
  source.offset = offset;
  source.end = end;
  source.sets = sets;
  try {
    return parseInto(reader, source, record).dataOffset;
  } finally {
    // The sets reach their indexer: the shared source must not keep it alive after the call.
    source.sets = NO_SETS;
  }
}

const NO_SETS: H264ParameterSets = { sps: () => undefined, pps: () => undefined };
const reader = new RbspBits(new Uint8Array(0), 0, 0);
const source: HeaderSource = { bytes: new Uint8Array(0), offset: 0, end: 0, sets: NO_SETS };
const record = emptyHeader();

function emptyHeader(): H264SliceHeader {
  return {
    nalUnitType: 0,
    nalRefIdc: 0,
    firstMbInSlice: 0,
    sliceType: 0,
    ppsId: 0,
    frameNum: 0,
    pocLsb: -1,
    sliceQpDelta: 0,
    dataOffset: 0,
    dataBitInByte: 0,
    cabacAlignmentBits: 0,
  };
}

/** Checks the NAL header byte, then reads the header from `r` (at the byte after it) into `out`. */
function parseInto(r: RbspBits, at: HeaderSource, out: H264SliceHeader): H264SliceHeader {
  const { bytes, offset, end } = at;
  if (offset >= end) fail("the NAL unit is empty", offset);
  const header = bytes[offset]!;
  const nalUnitType = header & 0x1f;
  if (header & 0x80) fail("forbidden_zero_bit is set", offset);
  if (nalUnitType !== NAL_SLICE_NON_IDR && nalUnitType !== NAL_SLICE_IDR)
    fail(`nal_unit_type ${nalUnitType} is not a coded slice`, offset);
  try {
    return readHeader(r, at, out);
  } catch (e) {
    if (isBitsExhausted(e)) fail("it is cut off", offset);
    if (e instanceof CodecError && e.code === "ERR_EXP_GOLOMB")
      fail("a ue(v) field is longer than 32 bits", offset);
    throw e;
  }
}

/** Reads the header from `r` (at the byte after the NAL header byte, which parseInto() has checked) into `out`. */
function readHeader(r: RbspBits, at: HeaderSource, out: H264SliceHeader): H264SliceHeader {
  const { offset, sets } = at;
  const header = at.bytes[offset]!;
  const nalUnitType = header & 0x1f;
  const nalRefIdc = (header >> 5) & 3;
  const idr = nalUnitType === NAL_SLICE_IDR;
  const firstMbInSlice = r.readUe();
  const rawType = r.readUe();
  if (rawType > MAX_SLICE_TYPE) fail(`slice_type ${rawType} is above ${MAX_SLICE_TYPE}`, offset);
  const sliceType = rawType % 5;
  const ppsId = r.readUe();
  const pps = sets.pps(ppsId);
  if (!pps) fail(`it refers to PPS ${ppsId}, not seen`, offset);
  const sps = sets.sps(pps.spsId);
  if (!sps) fail(`its PPS refers to SPS ${pps.spsId}, not seen`, offset);
  if (sps.separateColourPlane) r.readBits(2); // colour_plane_id
  const frameNum = r.readBits(sps.log2MaxFrameNum);
  let fieldPic = false;
  if (!sps.frameMbsOnly) {
    fieldPic = r.readBit() === 1;
    if (fieldPic) r.readBit(); // bottom_field_flag
  }
  if (idr) r.readUe(); // idr_pic_id
  let pocLsb = -1;
  if (sps.picOrderCntType === 0) {
    pocLsb = r.readBits(sps.log2MaxPocLsb);
    if (pps.bottomFieldPicOrderInFramePresent && !fieldPic) r.readSe(); // delta_pic_order_cnt_bottom
  }
  if (sps.picOrderCntType === 1 && !sps.deltaPicOrderAlwaysZero) {
    r.readSe(); // delta_pic_order_cnt[0]
    if (pps.bottomFieldPicOrderInFramePresent && !fieldPic) r.readSe(); // delta_pic_order_cnt[1]
  }
  if (pps.redundantPicCntPresent) r.readUe(); // redundant_pic_cnt
  const isB = sliceType === SLICE_B;
  const isP = sliceType === SLICE_P || sliceType === SLICE_SP;
  if (isB) r.readBit(); // direct_spatial_mv_pred_flag
  let l0 = pps.numRefIdxL0DefaultActiveMinus1;
  let l1 = pps.numRefIdxL1DefaultActiveMinus1;
  if ((isP || isB) && r.readBit() === 1) {
    // num_ref_idx_active_override_flag
    l0 = r.readUe();
    if (isB) l1 = r.readUe();
    if (l0 > MAX_REF_IDX_MINUS1 || l1 > MAX_REF_IDX_MINUS1)
      fail("num_ref_idx_active_minus1 is above 31", offset);
  }
  // ref_pic_list_modification(), 7.3.3.1: lists of I and SI slices have none.
  if (sliceType !== SLICE_I && sliceType !== SLICE_SI) skipModifications(r, offset);
  if (isB) skipModifications(r, offset);
  if ((pps.weightedPred && isP) || (pps.weightedBipredIdc === 1 && isB)) {
    const chroma = sps.separateColourPlane ? 0 : sps.chromaFormatIdc;
    // pred_weight_table(), 7.3.3.2: the denominators, then list 0's weights and, for a B slice, list 1's.
    r.readUe(); // luma_log2_weight_denom
    if (chroma !== 0) r.readUe(); // chroma_log2_weight_denom
    skipPredWeights(r, chroma, l0);
    if (isB) skipPredWeights(r, chroma, l1);
  }
  if (nalRefIdc !== 0) skipDecRefPicMarking(r, idr, offset);
  if (pps.cabac && sliceType !== SLICE_I && sliceType !== SLICE_SI) {
    if (r.readUe() > 2) fail("cabac_init_idc is above 2", offset);
  }
  const sliceQpDelta = r.readSe();
  if (sliceType === SLICE_SP || sliceType === SLICE_SI) {
    if (sliceType === SLICE_SP) r.readBit(); // sp_for_switch_flag
    r.readSe(); // slice_qs_delta
  }
  if (pps.deblockingFilterControlPresent) {
    const idc = r.readUe(); // disable_deblocking_filter_idc
    if (idc > 2) fail(`disable_deblocking_filter_idc ${idc} is above 2`, offset);
    if (idc !== 1) {
      r.readSe(); // slice_alpha_c0_offset_div2
      r.readSe(); // slice_beta_offset_div2
    }
  }
  if (hasSliceGroupChangeCycle(pps)) {
    // Ceil(Log2(PicSizeInMapUnits ÷ SliceGroupChangeRate + 1)) bits, 7.4.3.
    const bits = Math.ceil(Math.log2(sps.picSizeInMapUnits / pps.sliceGroupChangeRate + 1));
    r.readBits(bits);
  }
  let cabacAlignmentBits = 0;
  if (pps.cabac) {
    // cabac_alignment_one_bit, 7.3.4: each is 1, up to the byte boundary.
    while (r.bitOffsetInByte !== 0) {
      if (r.readBit() !== 1) fail("a cabac_alignment_one_bit is 0", offset);
      cabacAlignmentBits++;
    }
  }
  out.nalUnitType = nalUnitType;
  out.nalRefIdc = nalRefIdc;
  out.firstMbInSlice = firstMbInSlice;
  out.sliceType = sliceType;
  out.ppsId = ppsId;
  out.frameNum = frameNum;
  out.pocLsb = pocLsb;
  out.sliceQpDelta = sliceQpDelta;
  out.dataOffset = r.bytePosition;
  out.dataBitInByte = r.bitOffsetInByte;
  out.cabacAlignmentBits = cabacAlignmentBits;
  return out;
}

/** One list's ref_pic_list_modification_flag_lX and its operations, 7.3.3.1. */
function skipModifications(r: RbspBits, offset: number): void {
  if (r.readBit() === 0) return;
  for (let n = 0; ; n++) {
    if (n > MAX_LOOP_ENTRIES) fail("ref_pic_list_modification() does not end", offset);
    const idc = r.readUe();
    if (idc === END_OF_MODIFICATIONS) return;
    if (idc > 5) fail(`modification_of_pic_nums_idc ${idc} is above 5`, offset);
    r.readUe(); // abs_diff_pic_num_minus1 | long_term_pic_num | abs_diff_view_idx_minus1
  }
}

/**
 * One list's weights in pred_weight_table(), 7.3.3.2, entries 0 to `last`: positional, not a list and an
 * options object: it runs per slice, and x264 writes a table in its P slices when weightp is on.
 */
function skipPredWeights(r: RbspBits, chroma: number, last: number): void {
  for (let i = 0; i <= last; i++) {
    if (r.readBit() === 1) {
      r.readSe(); // luma_weight
      r.readSe(); // luma_offset
    }
    if (chroma !== 0 && r.readBit() === 1) {
      for (let j = 0; j < 4; j++) r.readSe(); // chroma_weight, chroma_offset for Cb and Cr
    }
  }
}

/** dec_ref_pic_marking(), 7.3.3.3. */
function skipDecRefPicMarking(r: RbspBits, idr: boolean, offset: number): void {
  if (idr) {
    r.readBit(); // no_output_of_prior_pics_flag
    r.readBit(); // long_term_reference_flag
    return;
  }
  if (r.readBit() === 0) return; // adaptive_ref_pic_marking_mode_flag
  for (let n = 0; ; n++) {
    if (n > MAX_LOOP_ENTRIES) fail("dec_ref_pic_marking() does not end", offset);
    const op = r.readUe();
    if (op === END_OF_MMCO) return;
    if (op > 6) fail(`memory_management_control_operation ${op} is above 6`, offset);
    if (op === 1 || op === 3) r.readUe(); // difference_of_pic_nums_minus1
    if (op === 2) r.readUe(); // long_term_pic_num
    if (op === 3 || op === 6) r.readUe(); // long_term_frame_idx
    if (op === 4) r.readUe(); // max_long_term_frame_idx_plus1
  }
}
