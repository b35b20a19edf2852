/** @module Strict parser for picture_coding_extension() (ISO/IEC 13818-2 6.2.3.1, 6.3.10). */
import { CodecError } from "../codec-error.ts";
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
    if (compositeDisplay) r.skip(1 + 3 + 1 + 7 + 8); // v_axis, field_sequence, sub_carrier, burst, phase
    const structure = STRUCTURE_NAMES[pictureStructure];
    if (structure === undefined)
      throw fail("ERR_PICTURE_STRUCTURE", "picture_structure 0 is reserved", offset);
    if (fCode[0][0] === F_CODE_FORBIDDEN || fCode[0][1] === F_CODE_FORBIDDEN) {
      throw fail("ERR_PICTURE_F_CODE", "a forward f_code is 0", offset);
    }
    if (fCode[1][0] === F_CODE_FORBIDDEN || fCode[1][1] === F_CODE_FORBIDDEN) {
      throw fail("ERR_PICTURE_F_CODE", "a backward f_code is 0", offset);
    }
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
  return new CodecError(code, `Cannot parse ${WHAT}: ${why}`, offset);
}
