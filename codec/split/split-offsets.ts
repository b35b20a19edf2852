/** @module Where each part's body stands once a prefix of the original is rebuilt: what a resumed split skips. */
import { codecError } from "../codec-error.ts";
import type { ByteRange } from "../recording-index.ts";

/** Body bytes of each part that make up the original's first `position` bytes. */
export interface SplitOffsets {
  protected: number;
  direct: number;
}

/**
 * The protected body holds the range bytes, the direct body the rest, both in original order: the first
 * `position` bytes of the original are the protected bytes of the ranges before it and the direct bytes
 * between them. Sender and receiver compute the same from the same range table, so a resume states one number
 * (the original's prefix held) and each side knows where every stream goes on. Throws ERR_SPLIT_LENGTH for a
 * position past the original.
 */
export function splitOffsetsAt(
  ranges: readonly ByteRange[],
  originalLength: number,
  position: number,
): SplitOffsets {
  if (!Number.isSafeInteger(position) || position < 0 || position > originalLength) {
    throw codecError(
      "ERR_SPLIT_LENGTH",
      `Cannot resume a split at byte ${position}: the original has ${originalLength} bytes`,
      0,
    );
  }
  let inRanges = 0;
  for (const r of ranges) {
    if (r.offset >= position) break;
    inRanges += Math.min(r.length, position - r.offset);
  }
  return { protected: inRanges, direct: position - inRanges };
}
