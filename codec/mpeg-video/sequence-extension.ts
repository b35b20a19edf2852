/** @module Strict parser for sequence_extension() (ISO/IEC 13818-2 6.2.2.3, 6.3.5): its presence means MPEG-2. */
import { CodecError } from "../codec-error.ts";
import { BitReader } from "./bit-reader.ts";
import { requireStartCode, truncation } from "./header-guard.ts";
import { EXTENSION_START_CODE, SEQUENCE_EXTENSION_ID, START_CODE_BYTES } from "./start-codes.ts";

/** 4+8+1+2+2+2+12+1+8+1+2+5 = 48 bits after the start code (ISO/IEC 13818-2 6.2.2.3). */
export const SEQUENCE_EXTENSION_BYTES = START_CODE_BYTES + 6;
/** chroma_format (ISO/IEC 13818-2 Table 6-5); 0 is reserved. */
export const CHROMA_FORMAT_RESERVED = 0;
export const CHROMA_FORMAT_420 = 1;
export const CHROMA_FORMAT_422 = 2;
export const CHROMA_FORMAT_444 = 3;

export interface SequenceExtension {
  offset: number;
  length: number;
  profileAndLevel: number;
  progressiveSequence: boolean;
  chromaFormat: number;
  /** High two bits of the picture size: full size = (ext << 12) | sequence header value (6.3.5). */
  horizontalSizeExtension: number;
  verticalSizeExtension: number;
  bitRateExtension: number;
  vbvBufferSizeExtension: number;
  lowDelay: boolean;
  frameRateExtensionN: number;
  frameRateExtensionD: number;
}

const WHAT = "sequence extension";

/** Parses the sequence extension whose start code (00 00 01 B5, id 1) is at `bytes[offset]`. Throws CodecError. */
export function parseSequenceExtension(bytes: Uint8Array, offset: number): SequenceExtension {
  requireStartCode(bytes, offset, EXTENSION_START_CODE, WHAT);
  try {
    const r = new BitReader(bytes, offset + START_CODE_BYTES);
    const id = r.read(4);
    if (id !== SEQUENCE_EXTENSION_ID) {
      throw fail(
        "ERR_EXTENSION_ID",
        `extension_start_code_identifier is ${id}, not ${SEQUENCE_EXTENSION_ID}`,
        offset,
      );
    }
    const profileAndLevel = r.read(8);
    const progressiveSequence = r.flag();
    const chromaFormat = r.read(2);
    const horizontalSizeExtension = r.read(2);
    const verticalSizeExtension = r.read(2);
    const bitRateExtension = r.read(12);
    const marker = r.read(1);
    const vbvBufferSizeExtension = r.read(8);
    const lowDelay = r.flag();
    const frameRateExtensionN = r.read(2);
    const frameRateExtensionD = r.read(5);
    if (chromaFormat === CHROMA_FORMAT_RESERVED) {
      throw fail("ERR_SEQUENCE_EXTENSION_CHROMA", "chroma_format 0 is reserved", offset);
    }
    if (marker !== 1)
      throw fail("ERR_SEQUENCE_EXTENSION_MARKER", "marker_bit after bit_rate_extension is 0", offset);
    return {
      offset,
      length: r.alignedByteOffset - offset,
      profileAndLevel,
      progressiveSequence,
      chromaFormat,
      horizontalSizeExtension,
      verticalSizeExtension,
      bitRateExtension,
      vbvBufferSizeExtension,
      lowDelay,
      frameRateExtensionN,
      frameRateExtensionD,
    };
  } catch (e) {
    throw truncation(e, "ERR_SEQUENCE_EXTENSION_TRUNCATED", WHAT, offset);
  }
}

function fail(code: string, why: string, offset: number): CodecError {
  return new CodecError(code, `Cannot parse ${WHAT}: ${why}`, offset);
}
