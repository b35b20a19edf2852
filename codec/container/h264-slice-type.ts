/** @module H.264 picture type from the first VCL NAL unit's slice header (ITU-T H.264 7.3.1, 7.3.3, Table 7-6). */

import type { PictureType } from "../recording-index.ts";

/** nal_unit_type values, ITU-T H.264 Table 7-1. */
export const NAL_SLICE_NON_IDR = 1;
export const NAL_SLICE_DATA_PARTITION_A = 2;
export const NAL_SLICE_IDR = 5;
export const NAL_SPS = 7;
export const NAL_ACCESS_UNIT_DELIMITER = 9;
/** emulation_prevention_three_byte after two zero bytes, ITU-T H.264 7.4.1. */
const EMULATION_PREVENTION_BYTE = 0x03;
/** slice_type % 5 -> picture type, ITU-T H.264 Table 7-6 (SP is predicted like P, SI intra like I). */
const SLICE_TYPES: readonly PictureType[] = ["P", "B", "I", "P", "I"];
/** ue(v) codes in a slice header's first fields never need more than 32 leading zeros. */
const MAX_LEADING_ZEROS = 31;

export interface SliceInfo {
  nalUnitType: number;
  /** IDR picture (nal_unit_type 5): decoding can start here with nothing before it. */
  idr: boolean;
  firstMbInSlice: number;
  type: PictureType;
}

/** Reads RBSP bits from a NAL payload, dropping emulation prevention bytes as it goes. */
class RbspBits {
  private byte = 0;
  private bit = 8;
  private zeros = 0;
  constructor(
    private readonly b: Uint8Array,
    private pos: number,
    private readonly end: number,
  ) {}

  private nextByte(): number | undefined {
    if (this.pos >= this.end) return undefined;
    let v = this.b[this.pos++]!;
    if (this.zeros >= 2 && v === EMULATION_PREVENTION_BYTE) {
      this.zeros = 0;
      if (this.pos >= this.end) return undefined;
      v = this.b[this.pos++]!;
    }
    this.zeros = v === 0 ? this.zeros + 1 : 0;
    return v;
  }

  readBit(): number | undefined {
    if (this.bit === 8) {
      const v = this.nextByte();
      if (v === undefined) return undefined;
      this.byte = v;
      this.bit = 0;
    }
    return (this.byte >> (7 - this.bit++)) & 1;
  }

  /** ue(v), ITU-T H.264 9.1; undefined when the data ends or the code is implausibly long. */
  readUe(): number | undefined {
    let zeros = 0;
    for (;;) {
      const bit = this.readBit();
      if (bit === undefined) return undefined;
      if (bit === 1) break;
      if (++zeros > MAX_LEADING_ZEROS) return undefined;
    }
    let value = 0;
    for (let i = 0; i < zeros; i++) {
      const bit = this.readBit();
      if (bit === undefined) return undefined;
      value = value * 2 + bit;
    }
    return 2 ** zeros - 1 + value;
  }
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
): SliceInfo | undefined {
  if (offset >= end) return undefined;
  const header = bytes[offset]!;
  if (header & 0x80) return undefined; // forbidden_zero_bit
  const nalUnitType = header & 0x1f;
  if (!isVclSliceNal(nalUnitType)) return undefined;
  const bits = new RbspBits(bytes, offset + 1, end);
  const firstMbInSlice = bits.readUe();
  const sliceType = bits.readUe();
  if (firstMbInSlice === undefined || sliceType === undefined || sliceType > 9) return undefined;
  return {
    nalUnitType,
    idr: nalUnitType === NAL_SLICE_IDR,
    firstMbInSlice,
    type: SLICE_TYPES[sliceType % 5]!,
  };
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
  while (p + lengthSize < sample.length) {
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
