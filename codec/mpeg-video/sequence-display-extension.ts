/** @module Strict parser for sequence_display_extension() (ISO/IEC 13818-2 6.2.2.4, 6.3.6): the intended display size. */
import { codecError } from "../codec-error.ts";
import { BitReader } from "./bit-reader.ts";
import { requireStartCode, truncation } from "./header-guard.ts";
import { EXTENSION_START_CODE, SEQUENCE_DISPLAY_EXTENSION_ID, START_CODE_BYTES } from "./start-codes.ts";

/** video_format (ISO/IEC 13818-2 Table 6-6): 0 component, 1 PAL, 2 NTSC, 3 SECAM, 4 MAC, 5 unspecified. */
export const VIDEO_FORMAT_UNSPECIFIED = 5;

export interface SequenceDisplayExtension {
  offset: number;
  videoFormat: number;
  /** colour_primaries, transfer_characteristics, matrix_coefficients (Tables 6-7..6-9), or null when absent. */
  colour: { primaries: number; transfer: number; matrix: number } | null;
  /** display_horizontal_size, display_vertical_size (6.3.6): the display aspect ratio applies to this area. */
  displayWidth: number;
  displayHeight: number;
}

const WHAT = "sequence display extension";

/** Parses the sequence display extension (00 00 01 B5, id 2) at `bytes[offset]`. Throws CodecError. */
export function parseSequenceDisplayExtension(bytes: Uint8Array, offset: number): SequenceDisplayExtension {
  requireStartCode(bytes, offset, EXTENSION_START_CODE, WHAT);
  try {
    const r = new BitReader(bytes, offset + START_CODE_BYTES);
    const id = r.read(4);
    if (id !== SEQUENCE_DISPLAY_EXTENSION_ID)
      throw codecError("ERR_EXTENSION_ID", `Cannot parse ${WHAT}: extension id ${id} is not 2`, offset);
    const videoFormat = r.read(3);
    const colour = r.flag() ? { primaries: r.read(8), transfer: r.read(8), matrix: r.read(8) } : null;
    const displayWidth = r.read(14);
    if (!r.flag())
      throw codecError("ERR_SEQUENCE_DISPLAY_MARKER", `Cannot parse ${WHAT}: marker_bit is 0`, offset);
    const displayHeight = r.read(14);
    return { offset, videoFormat, colour, displayWidth, displayHeight };
  } catch (e) {
    throw truncation(e, "ERR_SEQUENCE_DISPLAY_EXTENSION_TRUNCATED", WHAT, offset);
  }
}
