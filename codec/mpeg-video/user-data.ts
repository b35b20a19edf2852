/** @module Parser for user_data() (ISO/IEC 13818-2 6.2.2.2.2; ISO/IEC 11172-2 2.4.2.3). */
import { requireStartCode } from "./header-guard.ts";
import { START_CODE_BYTES, USER_DATA_START_CODE } from "./start-codes.ts";

const START_CODE_PATTERN = new Uint8Array([0, 0, 1]);

export interface UserData {
  offset: number;
  /** Start code plus payload: up to the next start code or the end of `bytes`. */
  length: number;
  /** user_data bytes as a view into the input (never a copy). */
  payload: Uint8Array;
  /** False when the input ended before a following start code, so the payload may continue. */
  terminated: boolean;
}

/**
 * Parses user data at `bytes[offset]` (00 00 01 B2). Its payload runs to the next 00 00 01 (6.2.2.2.2: user
 * data "shall not contain a string of 23 or more consecutive zero bits"), so it needs no length field.
 */
export function parseUserData(bytes: Uint8Array, offset: number): UserData {
  requireStartCode(bytes, offset, USER_DATA_START_CODE, "user data");
  const from = offset + START_CODE_BYTES;
  const next = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).indexOf(
    START_CODE_PATTERN,
    from,
  );
  const end = next < 0 ? bytes.length : next;
  return { offset, length: end - offset, payload: bytes.subarray(from, end), terminated: next >= 0 };
}
