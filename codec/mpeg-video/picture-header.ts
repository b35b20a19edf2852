/** @module Strict parser for picture_header() (ISO/IEC 13818-2 6.2.3, 6.3.9; ISO/IEC 11172-2 2.4.2.5). */
import { type CodecError, codecError } from "../codec-error.ts";
import type { PictureType } from "../recording-index.ts";
import { BitReader } from "./bit-reader.ts";
import { requireStartCode, truncation } from "./header-guard.ts";
import { PICTURE_START_CODE, START_CODE_BYTES } from "./start-codes.ts";

/** picture_coding_type (ISO/IEC 13818-2 Table 6-12): 0 forbidden, 4 (D) is MPEG-1 only, 5..7 reserved. */
export const PICTURE_CODING_TYPE_I = 1;
export const PICTURE_CODING_TYPE_P = 2;
export const PICTURE_CODING_TYPE_B = 3;
export const PICTURE_CODING_TYPE_D = 4;
const TYPE_NAMES: Record<number, PictureType> = { 1: "I", 2: "P", 3: "B", 4: "D" };
/** temporal_reference (10) + picture_coding_type (3): the bits needed to know what kind of picture this is. */
export const PICTURE_TYPE_BITS = 13;
/** Longest header the indexer needs buffered: 10+3+16+4+4+1 bits (+ a few extra_information bytes). */
export const PICTURE_HEADER_MAX_FIXED_BYTES = START_CODE_BYTES + 5;
/** extra_information_picture is capped so a run of 1 bits in garbage cannot make a header unbounded. */
export const EXTRA_INFORMATION_MAX_BYTES = 256;

export interface PictureHeader {
  offset: number;
  /** Bytes from the start code to the end of the header (after extra_bit_picture, rounded up to a byte). */
  length: number;
  temporalReference: number;
  codingType: number;
  type: PictureType;
  vbvDelay: number;
  /** MPEG-1 motion parameters; MPEG-2 streams carry 0 and 7 here and use the picture coding extension. */
  fullPelForwardVector: boolean;
  forwardFCode: number;
  fullPelBackwardVector: boolean;
  backwardFCode: number;
}

const WHAT = "picture header";

/** Parses the picture header whose start code (00 00 01 00) is at `bytes[offset]`. Throws CodecError. */
export function parsePictureHeader(bytes: Uint8Array, offset: number): PictureHeader {
  requireStartCode(bytes, offset, PICTURE_START_CODE, WHAT);
  return bytePictureHeader(bytes, offset) ?? readPictureHeader(bytes, offset);
}

/**
 * The type of the picture whose header is at `bytes[offset]`, after every check parsePictureHeader makes (the
 * same CodecErrors), without building its record: what the indexer needs of each picture besides
 * temporal_reference (pictureTemporalReference), for the same reason as parsePictureStructure.
 */
export function parsePictureType(bytes: Uint8Array, offset: number): PictureType {
  requireStartCode(bytes, offset, PICTURE_START_CODE, WHAT);
  if (fixedHeaderBits(bytes, offset) === 0) return readPictureHeader(bytes, offset).type;
  return TYPE_NAMES[codingTypeAt(bytes, offset)] as PictureType; // a valid type: fixedHeaderBits checked it
}

/** temporal_reference: the first 10 bits after the start code (ISO/IEC 13818-2 6.2.3), 0 where they are cut. */
export function pictureTemporalReference(bytes: Uint8Array, offset: number): number {
  return ((bytes[offset + START_CODE_BYTES] ?? 0) << 2) | ((bytes[offset + START_CODE_BYTES + 1] ?? 0) >> 6);
}

/** picture_coding_type: bits 10-12 after the start code. */
function codingTypeAt(bytes: Uint8Array, offset: number): number {
  return ((bytes[offset + START_CODE_BYTES + 1] as number) >> 3) & 7;
}

/**
 * The header's size in bits when the bytes hold its fixed layout (ISO/IEC 13818-2 6.2.3: temporal_reference
 * 10, picture_coding_type 3, vbv_delay 16, then 4 motion bits per direction of a P or B picture) and
 * extra_bit_picture after it is 0: 30, 34 or 38. 0 when the bytes end early or extra_information_picture
 * follows: readPictureHeader then decides. Throws the type and f_code errors readPictureHeader would. The
 * fast paths of both readers start here: before the JIT has warmed up, a BitReader call per field was most
 * of what indexing a picture cost.
 */
function fixedHeaderBits(bytes: Uint8Array, offset: number): number {
  const b = offset + START_CODE_BYTES;
  if (b + 4 > bytes.length) return 0;
  const codingType = codingTypeAt(bytes, offset);
  if (TYPE_NAMES[codingType] === undefined) {
    const why = codingType === 0 ? "forbidden" : "reserved";
    throw fail("ERR_PICTURE_TYPE", `picture_coding_type ${codingType} is ${why}`, offset);
  }
  const b3 = bytes[b + 3] as number;
  if (codingType !== PICTURE_CODING_TYPE_P && codingType !== PICTURE_CODING_TYPE_B) {
    return (b3 & 0x04) === 0 ? 30 : 0; // extra_bit_picture at bit 29
  }
  if (b + 5 > bytes.length) return 0;
  const b4 = bytes[b + 4] as number;
  if ((((b3 & 3) << 1) | (b4 >> 7)) === 0) {
    throw fail("ERR_PICTURE_F_CODE", "forward_f_code 0 is forbidden", offset); // bits 30-32
  }
  if (codingType === PICTURE_CODING_TYPE_P) return (b4 & 0x40) === 0 ? 34 : 0; // extra bit at 33
  if (((b4 >> 3) & 7) === 0) throw fail("ERR_PICTURE_F_CODE", "backward_f_code 0 is forbidden", offset);
  return (b4 & 0x04) === 0 ? 38 : 0; // extra bit at 37
}

/** Every field straight from the bytes; null where fixedHeaderBits sends the header to readPictureHeader. */
function bytePictureHeader(bytes: Uint8Array, offset: number): PictureHeader | null {
  const bits = fixedHeaderBits(bytes, offset);
  if (bits === 0) return null;
  const b = offset + START_CODE_BYTES;
  const b1 = bytes[b + 1] as number;
  const b2 = bytes[b + 2] as number;
  const b3 = bytes[b + 3] as number;
  const b4 = bits > 30 ? (bytes[b + 4] as number) : 0;
  const codingType = codingTypeAt(bytes, offset);
  return {
    offset,
    length: START_CODE_BYTES + ((bits + 7) >> 3),
    temporalReference: pictureTemporalReference(bytes, offset),
    codingType,
    type: TYPE_NAMES[codingType] as PictureType,
    vbvDelay: ((b1 & 7) << 13) | (b2 << 5) | (b3 >> 3),
    fullPelForwardVector: bits > 30 && (b3 & 0x04) !== 0, // bit 29
    forwardFCode: bits > 30 ? ((b3 & 3) << 1) | (b4 >> 7) : 0, // bits 30-32
    fullPelBackwardVector: bits > 34 && (b4 & 0x40) !== 0, // bit 33
    backwardFCode: bits > 34 ? (b4 >> 3) & 7 : 0, // bits 34-36
  };
}

/** The general path, field by field: extra_information_picture, and truncation with the bit it happened at. */
export function readPictureHeader(bytes: Uint8Array, offset: number): PictureHeader {
  try {
    const r = new BitReader(bytes, offset + START_CODE_BYTES);
    const temporalReference = r.read(10);
    const codingType = r.read(3);
    const type = TYPE_NAMES[codingType];
    if (type === undefined) {
      const why = codingType === 0 ? "forbidden" : "reserved";
      throw fail("ERR_PICTURE_TYPE", `picture_coding_type ${codingType} is ${why}`, offset);
    }
    const vbvDelay = r.read(16);
    let fullPelForwardVector = false;
    let forwardFCode = 0;
    let fullPelBackwardVector = false;
    let backwardFCode = 0;
    if (codingType === PICTURE_CODING_TYPE_P || codingType === PICTURE_CODING_TYPE_B) {
      fullPelForwardVector = r.flag();
      forwardFCode = r.read(3);
      // 11172-2 2.4.3.4: forward_f_code 0 is forbidden; 13818-2 6.3.9 requires '111' in MPEG-2.
      if (forwardFCode === 0) throw fail("ERR_PICTURE_F_CODE", "forward_f_code 0 is forbidden", offset);
    }
    if (codingType === PICTURE_CODING_TYPE_B) {
      fullPelBackwardVector = r.flag();
      backwardFCode = r.read(3);
      if (backwardFCode === 0) throw fail("ERR_PICTURE_F_CODE", "backward_f_code 0 is forbidden", offset);
    }
    let extraBytes = 0;
    while (r.flag()) {
      r.skip(8);
      if (++extraBytes > EXTRA_INFORMATION_MAX_BYTES) {
        throw fail(
          "ERR_PICTURE_EXTRA",
          `more than ${EXTRA_INFORMATION_MAX_BYTES} extra_information bytes`,
          offset,
        );
      }
    }
    return {
      offset,
      length: r.alignedByteOffset - offset,
      temporalReference,
      codingType,
      type,
      vbvDelay,
      fullPelForwardVector,
      forwardFCode,
      fullPelBackwardVector,
      backwardFCode,
    };
  } catch (e) {
    throw truncation(e, "ERR_PICTURE_TRUNCATED", WHAT, offset);
  }
}

/**
 * picture_coding_type of the header at `offset` when its first 13 bits are present in bytes[..end), else -1.
 * The indexer uses this to stay conservative: a header too damaged to parse fully that still says "I" is
 * treated as an I-picture, so its bytes are protected rather than sent directly.
 */
export function peekPictureCodingType(bytes: Uint8Array, offset: number, end: number = bytes.length): number {
  const r = new BitReader(bytes, offset + START_CODE_BYTES, end);
  if (r.bitsLeft() < PICTURE_TYPE_BITS) return -1;
  r.skip(10);
  return r.read(3);
}

export function pictureTypeName(codingType: number): PictureType | undefined {
  return TYPE_NAMES[codingType];
}

function fail(code: string, why: string, offset: number): CodecError {
  return codecError(code, `Cannot parse ${WHAT}: ${why}`, offset);
}
