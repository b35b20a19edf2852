/**
 * @module What a bit cursor (mpeg-video/bit-reader.ts, container/rbsp-bits.ts) throws when a read runs past its
 * end: a RangeError with the codec code ERR_BITS_EXHAUSTED, which the header parser translates into its own code.
 */
import { CodecError, codecError } from "./codec-error.ts";

/** Never leaves the codec: each header parser translates it into its own _TRUNCATED code (or a miss). */
export const ERR_BITS_EXHAUSTED = "ERR_BITS_EXHAUSTED";

/** The error for a read at bit `atBit` of the input that needs bits past `endBit`; its offset is atBit's byte. */
export function bitsExhausted(atBit: number, endBit: number): CodecError {
  return codecError(
    ERR_BITS_EXHAUSTED,
    `Cannot read at bit ${atBit}: the data ends at bit ${endBit}`,
    Math.floor(atBit / 8),
  );
}

/** True for the error bitsExhausted() makes, so a parser translates a truncation and lets anything else pass. */
export function isBitsExhausted(e: unknown): e is CodecError {
  return e instanceof CodecError && e.code === ERR_BITS_EXHAUSTED;
}
