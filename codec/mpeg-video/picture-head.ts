/** @module The record of a picture head, which the start-code kernel reports in place of its start codes. */
import type { PictureStructure, PictureType } from "../recording-index.ts";

/**
 * A picture head is a picture start code, its picture coding extension, any user data and extensions after it,
 * and its first slice start code (ISO/IEC 13818-2 6.2.3, 6.2.3.1, 6.2.2.2.2, 6.2.4), every header
 * well-formed. The kernel (start-code-scan.wat, heads()) packs what an index keeps of it into one i32:
 * temporal_reference in bits 0-9, picture_coding_type (1-3) in bits 10-12, picture_structure (1-3) in
 * bits 13-14.
 */
export type PictureHeadRecord = number;

/** Receives picture heads from a StartCodeScanner (StartCodeScannerOptions.pictureHeads). */
export interface PictureHeadHandler {
  /**
   * Asked before each window the kernel searches: whether heads may be reported as records from here on. The
   * handler answers yes only where reading the head's start codes one by one could have no other effect.
   */
  enabled(): boolean;
  /** One picture head, in stream order with the start codes; `offset` is that of its picture start code. */
  onPictureHead(offset: number, record: PictureHeadRecord): void;
}

const TYPES: readonly PictureType[] = ["I", "I", "P", "B"]; // picture_coding_type 1-3 (Table 6-12)
const STRUCTURES: readonly PictureStructure[] = ["frame", "top", "bottom", "frame"]; // 1-3 (Table 6-14)

export function pictureHeadTemporalReference(record: PictureHeadRecord): number {
  return record & 0x3ff;
}

export function pictureHeadType(record: PictureHeadRecord): PictureType {
  return TYPES[(record >> 10) & 3] as PictureType;
}

export function pictureHeadStructure(record: PictureHeadRecord): PictureStructure {
  return STRUCTURES[(record >> 13) & 3] as PictureStructure;
}
