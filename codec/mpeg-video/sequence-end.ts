/** @module Parser for sequence_end_code (ISO/IEC 13818-2 6.2.2; ISO/IEC 11172-2 2.4.2.2). */
import { requireStartCode } from "./header-guard.ts";
import { SEQUENCE_END_CODE, START_CODE_BYTES } from "./start-codes.ts";

export interface SequenceEnd {
  offset: number;
  length: number;
}

/** Checks the sequence_end_code (00 00 01 B7) at `bytes[offset]`; the code carries no fields. */
export function parseSequenceEnd(bytes: Uint8Array, offset: number): SequenceEnd {
  requireStartCode(bytes, offset, SEQUENCE_END_CODE, "sequence end");
  return { offset, length: START_CODE_BYTES };
}
