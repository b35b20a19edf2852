/** @module Strict parser for sequence_extension() (ISO/IEC 13818-2 6.2.2.3, 6.3.5): its presence means MPEG-2. */
import { type CodecError, codecError } from "../codec-error.ts";
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
  const b = offset + START_CODE_BYTES;
  // The whole extension (48 bits) straight from its 6 bytes, as readSequenceExtension would read it.
  if (b + 6 > bytes.length) return readSequenceExtension(bytes, offset);
  const e0 = bytes[b] as number;
  const e1 = bytes[b + 1] as number;
  const e2 = bytes[b + 2] as number;
  const e3 = bytes[b + 3] as number;
  const e5 = bytes[b + 5] as number;
  return checkedSequenceExtension(
    offset,
    e0 >> 4,
    {
      offset,
      length: SEQUENCE_EXTENSION_BYTES,
      profileAndLevel: ((e0 & 15) << 4) | (e1 >> 4), // bits 4-11
      progressiveSequence: (e1 & 0x08) !== 0, // bit 12
      chromaFormat: (e1 >> 1) & 3, // bits 13-14
      horizontalSizeExtension: ((e1 & 1) << 1) | (e2 >> 7), // bits 15-16
      verticalSizeExtension: (e2 >> 5) & 3, // bits 17-18
      bitRateExtension: ((e2 & 31) << 7) | (e3 >> 1), // bits 19-30
      vbvBufferSizeExtension: bytes[b + 4] as number, // bits 32-39
      lowDelay: (e5 & 0x80) !== 0, // bit 40
      frameRateExtensionN: (e5 >> 5) & 3, // bits 41-42
      frameRateExtensionD: e5 & 31, // bits 43-47
    },
    e3 & 1,
  ); // marker_bit, bit 31
}

/** The general path, field by field, for input too short for the byte path (truncation with its bit). */
export function readSequenceExtension(bytes: Uint8Array, offset: number): SequenceExtension {
  try {
    const r = new BitReader(bytes, offset + START_CODE_BYTES);
    const id = r.read(4);
    if (id !== SEQUENCE_EXTENSION_ID) throw wrongId(id, offset);
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
    return checkedSequenceExtension(
      offset,
      id,
      {
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
      },
      marker,
    );
  } catch (e) {
    throw truncation(e, "ERR_SEQUENCE_EXTENSION_TRUNCATED", WHAT, offset);
  }
}

/** The checks both paths make, in this order: the identifier, chroma_format, the marker bit. */
function checkedSequenceExtension(
  offset: number,
  id: number,
  x: SequenceExtension,
  marker: number,
): SequenceExtension {
  if (id !== SEQUENCE_EXTENSION_ID) throw wrongId(id, offset);
  if (x.chromaFormat === CHROMA_FORMAT_RESERVED) {
    throw fail("ERR_SEQUENCE_EXTENSION_CHROMA", "chroma_format 0 is reserved", offset);
  }
  if (marker !== 1)
    throw fail("ERR_SEQUENCE_EXTENSION_MARKER", "marker_bit after bit_rate_extension is 0", offset);
  return x;
}

function wrongId(id: number, offset: number): CodecError {
  return fail(
    "ERR_EXTENSION_ID",
    `extension_start_code_identifier is ${id}, not ${SEQUENCE_EXTENSION_ID}`,
    offset,
  );
}

function fail(code: string, why: string, offset: number): CodecError {
  return codecError(code, `Cannot parse ${WHAT}: ${why}`, offset);
}
