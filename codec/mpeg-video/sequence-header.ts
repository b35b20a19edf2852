/** @module Strict parser for sequence_header() (ISO/IEC 13818-2 6.2.2.1, 6.3.3; ISO/IEC 11172-2 2.4.2.3). */
import { type CodecError, codecError } from "../codec-error.ts";
import { BitReader } from "./bit-reader.ts";
import { requireStartCode, truncation } from "./header-guard.ts";
import { SEQUENCE_HEADER_CODE, START_CODE_BYTES } from "./start-codes.ts";

/** Quantiser matrices hold 64 8-bit entries in zigzag order (ISO/IEC 13818-2 6.3.3). */
export const QUANTISER_MATRIX_ENTRIES = 64;
/** Fixed part after the start code: 12+12+4+4+18+1+10+1+1+1 bits = 64 bits (ISO/IEC 13818-2 6.2.2.1). */
export const SEQUENCE_HEADER_FIXED_BYTES = START_CODE_BYTES + 8;
/** Longest possible sequence header: both matrices loaded. */
export const SEQUENCE_HEADER_MAX_BYTES = SEQUENCE_HEADER_FIXED_BYTES + 2 * QUANTISER_MATRIX_ENTRIES;
/** aspect_ratio_information / pel_aspect_ratio: 0 is forbidden, 15 reserved (13818-2 Table 6-3, 11172-2 2.4.3.2). */
export const ASPECT_RATIO_FORBIDDEN = 0;
export const ASPECT_RATIO_RESERVED = 15;
/** frame_rate_code 1..8 are defined, 0 is forbidden and 9..15 reserved (ISO/IEC 13818-2 Table 6-4). */
export const FRAME_RATE_CODE_MAX = 8;
/** Frame rates by frame_rate_code, as [numerator, denominator] (ISO/IEC 13818-2 Table 6-4). */
export const FRAME_RATES: ReadonlyArray<readonly [number, number]> = [
  [0, 1],
  [24000, 1001],
  [24, 1],
  [25, 1],
  [30000, 1001],
  [30, 1],
  [50, 1],
  [60000, 1001],
  [60, 1],
];

export interface SequenceHeader {
  offset: number;
  /** Bytes from the start code to the end of the header (matrices included, trailing bits to the byte). */
  length: number;
  /** horizontal_size_value / vertical_size_value: low 12 bits; MPEG-2 adds the sequence extension's high bits. */
  horizontalSize: number;
  verticalSize: number;
  aspectRatioCode: number;
  frameRateCode: number;
  /** bit_rate_value in units of 400 bit/s; 0x3FFFF means variable bit rate in MPEG-1. */
  bitRateValue: number;
  vbvBufferSizeValue: number;
  constrainedParameters: boolean;
  /** Loaded matrices (zigzag order), or null when the default applies. Copies: the fields are not byte-aligned. */
  intraQuantiserMatrix: Uint8Array | null;
  nonIntraQuantiserMatrix: Uint8Array | null;
}

const WHAT = "sequence header";

/** Parses the sequence header whose start code (00 00 01 B3) is at `bytes[offset]`. Throws CodecError. */
export function parseSequenceHeader(bytes: Uint8Array, offset: number): SequenceHeader {
  requireStartCode(bytes, offset, SEQUENCE_HEADER_CODE, WHAT);
  return byteSequenceHeader(bytes, offset) ?? readSequenceHeader(bytes, offset);
}

/**
 * The header straight from its bytes when they hold the whole fixed part and neither matrix is loaded (the
 * usual header: 12 bytes); null otherwise, for readSequenceHeader. The same checks in the same order: a
 * recording repeats its sequence header before every GOP, and field-by-field reading was most of what one
 * cost before the JIT warmed up.
 */
function byteSequenceHeader(bytes: Uint8Array, offset: number): SequenceHeader | null {
  const b = offset + START_CODE_BYTES;
  if (b + 8 > bytes.length) return null;
  const b1 = bytes[b + 1] as number;
  const b3 = bytes[b + 3] as number;
  const b6 = bytes[b + 6] as number;
  const b7 = bytes[b + 7] as number;
  if ((b7 & 0x03) !== 0) return null; // load_intra_quantiser_matrix (bit 62) or, after a 0, load_non_intra (63)
  const horizontalSize = ((bytes[b] as number) << 4) | (b1 >> 4); // bits 0-11
  const verticalSize = ((b1 & 15) << 8) | (bytes[b + 2] as number); // bits 12-23
  const aspectRatioCode = b3 >> 4; // bits 24-27
  const frameRateCode = b3 & 15; // bits 28-31
  const bitRateValue = ((bytes[b + 4] as number) << 10) | ((bytes[b + 5] as number) << 2) | (b6 >> 6); // 32-49
  checkFixedFields(offset, {
    horizontalSize,
    verticalSize,
    aspectRatioCode,
    frameRateCode,
    bitRateValue,
    marker: (b6 >> 5) & 1,
  });
  return {
    offset,
    length: SEQUENCE_HEADER_FIXED_BYTES,
    horizontalSize,
    verticalSize,
    aspectRatioCode,
    frameRateCode,
    bitRateValue,
    vbvBufferSizeValue: ((b6 & 31) << 5) | (b7 >> 3), // bits 51-60
    constrainedParameters: (b7 & 0x04) !== 0, // bit 61
    intraQuantiserMatrix: null,
    nonIntraQuantiserMatrix: null,
  };
}

/** The general path, field by field: quantiser matrices, and truncation with the bit it happened at. */
export function readSequenceHeader(bytes: Uint8Array, offset: number): SequenceHeader {
  try {
    const r = new BitReader(bytes, offset + START_CODE_BYTES);
    const horizontalSize = r.read(12);
    const verticalSize = r.read(12);
    const aspectRatioCode = r.read(4);
    const frameRateCode = r.read(4);
    const bitRateValue = r.read(18);
    const marker = r.read(1);
    const vbvBufferSizeValue = r.read(10);
    const constrainedParameters = r.flag();
    checkFixedFields(offset, {
      horizontalSize,
      verticalSize,
      aspectRatioCode,
      frameRateCode,
      bitRateValue,
      marker,
    });
    const intraQuantiserMatrix = r.flag() ? readMatrix(r, offset, "intra") : null;
    const nonIntraQuantiserMatrix = r.flag() ? readMatrix(r, offset, "non-intra") : null;
    return {
      offset,
      length: r.alignedByteOffset - offset,
      horizontalSize,
      verticalSize,
      aspectRatioCode,
      frameRateCode,
      bitRateValue,
      vbvBufferSizeValue,
      constrainedParameters,
      intraQuantiserMatrix,
      nonIntraQuantiserMatrix,
    };
  } catch (e) {
    throw truncation(e, "ERR_SEQUENCE_TRUNCATED", WHAT, offset);
  }
}

/** The checks both paths make on the fixed fields, in this order. */
/** The fixed-layout fields both readers check alike (13818-2 6.2.2.1), as read. */
interface FixedFields {
  horizontalSize: number;
  verticalSize: number;
  aspectRatioCode: number;
  frameRateCode: number;
  bitRateValue: number;
  marker: number;
}

function checkFixedFields(offset: number, f: FixedFields): void {
  const { horizontalSize, verticalSize, aspectRatioCode, frameRateCode, bitRateValue, marker } = f;
  // 13818-2 6.3.3: horizontal_size_value and vertical_size_value of 0 are not allowed (no picture to code).
  if (horizontalSize === 0 || verticalSize === 0) {
    throw fail("ERR_SEQUENCE_SIZE", `size ${horizontalSize}x${verticalSize} has a zero dimension`, offset);
  }
  if (aspectRatioCode === ASPECT_RATIO_FORBIDDEN || aspectRatioCode === ASPECT_RATIO_RESERVED) {
    throw fail("ERR_SEQUENCE_ASPECT", `aspect_ratio_information ${aspectRatioCode} is forbidden`, offset);
  }
  if (frameRateCode === 0 || frameRateCode > FRAME_RATE_CODE_MAX) {
    throw fail(
      "ERR_SEQUENCE_FRAME_RATE",
      `frame_rate_code ${frameRateCode} is forbidden or reserved`,
      offset,
    );
  }
  // 13818-2 6.3.3 / 11172-2 2.4.3.2: "The bit_rate value of zero is forbidden."
  if (bitRateValue === 0) throw fail("ERR_SEQUENCE_BIT_RATE", "bit_rate_value 0 is forbidden", offset);
  if (marker !== 1) throw fail("ERR_SEQUENCE_MARKER", "marker_bit after bit_rate_value is 0", offset);
}

function readMatrix(r: BitReader, offset: number, which: string): Uint8Array {
  const m = new Uint8Array(QUANTISER_MATRIX_ENTRIES);
  for (let i = 0; i < QUANTISER_MATRIX_ENTRIES; i++) {
    const v = r.read(8);
    // 13818-2 6.3.11: "The value zero is forbidden" for every quantiser matrix entry.
    if (v === 0) throw fail("ERR_SEQUENCE_MATRIX", `${which} quantiser matrix entry ${i} is 0`, offset);
    m[i] = v;
  }
  return m;
}

function fail(code: string, why: string, offset: number): CodecError {
  return codecError(code, `Cannot parse ${WHAT}: ${why}`, offset);
}
