/** @module Strict parser for picture_coding_extension() (ISO/IEC 13818-2 6.2.3.1, 6.3.10). */
import { type CodecError, codecError } from "../codec-error.ts";
import type { PictureStructure } from "../recording-index.ts";
import { BitReader } from "./bit-reader.ts";
import { requireStartCode, truncation } from "./header-guard.ts";
import { EXTENSION_START_CODE, PICTURE_CODING_EXTENSION_ID, START_CODE_BYTES } from "./start-codes.ts";

/** picture_structure (ISO/IEC 13818-2 Table 6-14); 0 is reserved. */
export const PICTURE_STRUCTURE_RESERVED = 0;
export const PICTURE_STRUCTURE_TOP_FIELD = 1;
export const PICTURE_STRUCTURE_BOTTOM_FIELD = 2;
export const PICTURE_STRUCTURE_FRAME = 3;
const STRUCTURE_NAMES: Record<number, PictureStructure> = { 1: "top", 2: "bottom", 3: "frame" };
/** 4+16+2+2+9 bits = 33 bits without composite display, 20 more with it (ISO/IEC 13818-2 6.2.3.1). */
export const PICTURE_CODING_EXTENSION_MAX_BYTES = START_CODE_BYTES + 7;
/** f_code value 15 means "unused"; 0 is forbidden (ISO/IEC 13818-2 6.3.10). */
export const F_CODE_FORBIDDEN = 0;

export interface PictureCodingExtension {
  offset: number;
  length: number;
  /** f_code[s][t]: s = 0 forward, 1 backward; t = 0 horizontal, 1 vertical. */
  fCode: [[number, number], [number, number]];
  intraDcPrecision: number;
  pictureStructure: number;
  structure: PictureStructure;
  topFieldFirst: boolean;
  framePredFrameDct: boolean;
  concealmentMotionVectors: boolean;
  qScaleType: boolean;
  intraVlcFormat: boolean;
  alternateScan: boolean;
  repeatFirstField: boolean;
  chroma420Type: boolean;
  progressiveFrame: boolean;
  compositeDisplay: boolean;
}

const WHAT = "picture coding extension";

/** Parses the picture coding extension (00 00 01 B5, id 8) at `bytes[offset]`. Throws CodecError. */
export function parsePictureCodingExtension(bytes: Uint8Array, offset: number): PictureCodingExtension {
  requireStartCode(bytes, offset, EXTENSION_START_CODE, WHAT);
  return byteExtension(bytes, offset) ?? readExtension(bytes, offset);
}

/**
 * The structure of the picture coding extension at `bytes[offset]`, after every check parsePictureCodingExtension
 * makes (the same CodecErrors, in the same order), without building its record. The indexer needs only this
 * field of each picture; the records (16 fields and three f_code arrays, ~10 000 for a 270 MB recording) were
 * most of what indexing allocated before the JIT could optimise them away, enough for a garbage collection.
 */
export function parsePictureStructure(bytes: Uint8Array, offset: number): PictureStructure {
  requireStartCode(bytes, offset, EXTENSION_START_CODE, WHAT);
  if (fixedExtensionLength(bytes, offset) === 0) return readExtension(bytes, offset).structure;
  const b = offset + START_CODE_BYTES;
  const b0 = bytes[b] as number;
  const b1 = bytes[b + 1] as number;
  const b2 = bytes[b + 2] as number;
  return checkedStructure(offset, {
    pictureStructure: b2 & 3,
    forwardH: b0 & 15,
    forwardV: b1 >> 4,
    backwardH: b1 & 15,
    backwardV: b2 >> 4,
  });
}

/** composite_display_flag 1 adds v_axis, field_sequence, sub_carrier, burst_amplitude, sub_carrier_phase. */
const COMPOSITE_DISPLAY_BITS = 1 + 3 + 1 + 7 + 8;

/**
 * The extension's length when the bytes hold all of it (it is fixed-layout: 4 + 16 + 2 + 2 + 10 bits, then
 * the composite display fields), 0 when they end early (readExtension then reports the truncation with its
 * bit). Throws ERR_EXTENSION_ID. The fast paths of both readers start here.
 */
function fixedExtensionLength(bytes: Uint8Array, offset: number): number {
  const b = offset + START_CODE_BYTES;
  if (b + 5 > bytes.length) return 0;
  const id = (bytes[b] as number) >> 4;
  if (id !== PICTURE_CODING_EXTENSION_ID) {
    throw fail(
      "ERR_EXTENSION_ID",
      `extension_start_code_identifier is ${id}, not ${PICTURE_CODING_EXTENSION_ID}`,
      offset,
    );
  }
  const compositeDisplay = ((bytes[b + 4] as number) & 0x40) !== 0; // bit 33
  const length = START_CODE_BYTES + ((34 + (compositeDisplay ? COMPOSITE_DISPLAY_BITS : 0) + 7) >> 3);
  return offset + length > bytes.length ? 0 : length;
}

/**
 * Every field straight from the bytes, for the same reason as the picture header's fast path; null where
 * fixedExtensionLength sends the extension to readExtension.
 */
function byteExtension(bytes: Uint8Array, offset: number): PictureCodingExtension | null {
  const length = fixedExtensionLength(bytes, offset);
  if (length === 0) return null;
  const b = offset + START_CODE_BYTES;
  const b0 = bytes[b] as number;
  const b1 = bytes[b + 1] as number;
  const b2 = bytes[b + 2] as number;
  const b3 = bytes[b + 3] as number;
  const b4 = bytes[b + 4] as number;
  const fCode: [[number, number], [number, number]] = [
    [b0 & 15, b1 >> 4],
    [b1 & 15, b2 >> 4],
  ];
  const pictureStructure = b2 & 3;
  return {
    offset,
    length,
    fCode,
    intraDcPrecision: (b2 >> 2) & 3,
    pictureStructure,
    structure: checkedStructure(offset, {
      pictureStructure,
      forwardH: b0 & 15,
      forwardV: b1 >> 4,
      backwardH: b1 & 15,
      backwardV: b2 >> 4,
    }),
    topFieldFirst: (b3 & 0x80) !== 0,
    framePredFrameDct: (b3 & 0x40) !== 0,
    concealmentMotionVectors: (b3 & 0x20) !== 0,
    qScaleType: (b3 & 0x10) !== 0,
    intraVlcFormat: (b3 & 0x08) !== 0,
    alternateScan: (b3 & 0x04) !== 0,
    repeatFirstField: (b3 & 0x02) !== 0,
    chroma420Type: (b3 & 0x01) !== 0,
    progressiveFrame: (b4 & 0x80) !== 0,
    compositeDisplay: (b4 & 0x40) !== 0,
  };
}

/**
 * The fields the semantic checks read. The f_codes come as plain numbers (forward horizontal, forward vertical,
 * backward horizontal, backward vertical), not the record's nested arrays, so parsePictureStructure builds only
 * this one flat record per picture, which the JIT can keep out of the heap.
 */
interface StructureFields {
  pictureStructure: number;
  forwardH: number;
  forwardV: number;
  backwardH: number;
  backwardV: number;
}

/** The semantic checks every path makes once the fields are read: the structure's name, or the error. */
function checkedStructure(
  offset: number,
  { pictureStructure, forwardH, forwardV, backwardH, backwardV }: StructureFields,
): PictureStructure {
  const structure = STRUCTURE_NAMES[pictureStructure];
  if (structure === undefined) throw fail("ERR_PICTURE_STRUCTURE", "picture_structure 0 is reserved", offset);
  if (forwardH === F_CODE_FORBIDDEN || forwardV === F_CODE_FORBIDDEN) {
    throw fail("ERR_PICTURE_F_CODE", "a forward f_code is 0", offset);
  }
  if (backwardH === F_CODE_FORBIDDEN || backwardV === F_CODE_FORBIDDEN) {
    throw fail("ERR_PICTURE_F_CODE", "a backward f_code is 0", offset);
  }
  return structure;
}

/** The general path, field by field, for input too short for byteExtension. */
export function readExtension(bytes: Uint8Array, offset: number): PictureCodingExtension {
  try {
    const r = new BitReader(bytes, offset + START_CODE_BYTES);
    const id = r.read(4);
    if (id !== PICTURE_CODING_EXTENSION_ID) {
      throw fail(
        "ERR_EXTENSION_ID",
        `extension_start_code_identifier is ${id}, not ${PICTURE_CODING_EXTENSION_ID}`,
        offset,
      );
    }
    const fCode: [[number, number], [number, number]] = [
      [r.read(4), r.read(4)],
      [r.read(4), r.read(4)],
    ];
    const intraDcPrecision = r.read(2);
    const pictureStructure = r.read(2);
    const topFieldFirst = r.flag();
    const framePredFrameDct = r.flag();
    const concealmentMotionVectors = r.flag();
    const qScaleType = r.flag();
    const intraVlcFormat = r.flag();
    const alternateScan = r.flag();
    const repeatFirstField = r.flag();
    const chroma420Type = r.flag();
    const progressiveFrame = r.flag();
    const compositeDisplay = r.flag();
    if (compositeDisplay) r.skip(COMPOSITE_DISPLAY_BITS);
    const structure = checkedStructure(offset, {
      pictureStructure,
      forwardH: fCode[0][0],
      forwardV: fCode[0][1],
      backwardH: fCode[1][0],
      backwardV: fCode[1][1],
    });
    return {
      offset,
      length: r.alignedByteOffset - offset,
      fCode,
      intraDcPrecision,
      pictureStructure,
      structure,
      topFieldFirst,
      framePredFrameDct,
      concealmentMotionVectors,
      qScaleType,
      intraVlcFormat,
      alternateScan,
      repeatFirstField,
      chroma420Type,
      progressiveFrame,
      compositeDisplay,
    };
  } catch (e) {
    throw truncation(e, "ERR_PICTURE_EXTENSION_TRUNCATED", WHAT, offset);
  }
}

function fail(code: string, why: string, offset: number): CodecError {
  return codecError(code, `Cannot parse ${WHAT}: ${why}`, offset);
}
