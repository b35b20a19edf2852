/** @module Shared entry checks for the strict header parsers: start code present, truncation translated. */
import { isBitsExhausted } from "../bits-exhausted.ts";
import { codecError } from "../codec-error.ts";
import { hasStartCode, START_CODE_BYTES } from "./start-codes.ts";

/**
 * Throws ERR_START_CODE unless `bytes[offset..]` begins with 00 00 01 `code`. `what` names the header in the
 * message ("sequence header").
 */
export function requireStartCode(bytes: Uint8Array, offset: number, code: number, what: string): void {
  // The usual case first, in the fewest operations: every picture passes through here twice.
  if (hasStartCode(bytes, offset, code)) return;
  if (!Number.isInteger(offset) || offset < 0 || offset > bytes.length) {
    throw codecError("ERR_START_CODE", `Cannot parse ${what}: offset ${offset} is outside the input`, offset);
  }
  if (offset + START_CODE_BYTES > bytes.length) {
    throw codecError(
      "ERR_START_CODE",
      `Cannot parse ${what}: only ${bytes.length - offset} bytes left, a start code needs ${START_CODE_BYTES}`,
      offset,
    );
  }
  const seen = Array.from(bytes.subarray(offset, offset + START_CODE_BYTES), (b) =>
    b.toString(16).padStart(2, "0"),
  ).join(" ");
  const want = `00 00 01 ${code.toString(16).padStart(2, "0")}`;
  throw codecError("ERR_START_CODE", `Cannot parse ${what}: expected ${want}, found ${seen}`, offset);
}

/**
 * Maps a BitReader overrun (ERR_BITS_EXHAUSTED) to `truncatedCode`, so callers see a stable code and
 * the header's offset; any other error passes through. Used as `catch (e) { throw truncation(e, ...) }` (no
 * closure per parse: these run once per picture while indexing).
 */
export function truncation(e: unknown, truncatedCode: string, what: string, offset: number): unknown {
  if (!isBitsExhausted(e)) return e;
  return codecError(
    truncatedCode,
    `Cannot parse ${what}: the header is cut short at its byte ${e.offset - offset}`,
    offset,
  );
}
