/** @module STUN attribute values other than addresses: ERROR-CODE, UNKNOWN-ATTRIBUTES, UTF-8 text, and integers (RFC 8489 14). */
import { readU16, readU32, writeU16, writeU32 } from "./big-endian.ts";
import { COMPREHENSION_OPTIONAL_MIN, TEXT_MAX_BYTES } from "./stun-constants.ts";
import { stunError } from "./stun-error.ts";
import type { StunMessage } from "./stun-message.ts";

const utf8 = new TextEncoder();
const utf8Strict = new TextDecoder("utf-8", { fatal: true });

/** Encodes UTF-8 text (USERNAME, SOFTWARE, reason phrases), refusing values above maxBytes. */
export function encodeText(s: string, maxBytes = TEXT_MAX_BYTES): Uint8Array {
  const b = utf8.encode(s);
  if (b.byteLength > maxBytes) {
    throw new RangeError(`Cannot encode STUN text: ${b.byteLength} bytes exceed ${maxBytes}`);
  }
  return b;
}

/** Decodes UTF-8 text strictly: malformed UTF-8 is an error, not replacement characters. */
export function decodeText(value: Uint8Array, maxBytes = TEXT_MAX_BYTES): string {
  if (value.byteLength > maxBytes) {
    throw stunError("ERR_STUN_TEXT", `Cannot parse STUN text: ${value.byteLength} bytes exceed ${maxBytes}`);
  }
  try {
    return utf8Strict.decode(value);
  } catch {
    throw stunError("ERR_STUN_TEXT", "Cannot parse STUN text: not valid UTF-8");
  }
}

/** ERROR-CODE value: 21 zero bits, class (hundreds, 3..6), number (0..99), reason phrase (RFC 8489 14.8). */
export function encodeErrorCode(code: number, reason: string): Uint8Array {
  if (!Number.isInteger(code) || code < 300 || code > 699) {
    throw new RangeError(`Cannot encode ERROR-CODE: ${code} is outside 300..699`);
  }
  const text = encodeText(reason);
  const out = new Uint8Array(4 + text.byteLength);
  out[2] = Math.floor(code / 100);
  out[3] = code % 100;
  out.set(text, 4);
  return out;
}

/** Decodes ERROR-CODE into its numeric code and reason phrase. */
export function decodeErrorCode(value: Uint8Array): { code: number; reason: string } {
  if (value.byteLength < 4) {
    throw stunError("ERR_STUN_ERROR_CODE", `Cannot parse ERROR-CODE: length ${value.byteLength} is below 4`);
  }
  const cls = value[2]! & 0x07;
  const num = value[3]!;
  if (cls < 3 || cls > 6 || num > 99) {
    throw stunError(
      "ERR_STUN_ERROR_CODE",
      `Cannot parse ERROR-CODE: class ${cls} number ${num} is out of range`,
    );
  }
  return { code: cls * 100 + num, reason: decodeText(value.subarray(4)) };
}

/** UNKNOWN-ATTRIBUTES value: the 16-bit types a 420 response names (RFC 8489 14.9). */
export function encodeUnknownAttributes(types: readonly number[]): Uint8Array {
  const out = new Uint8Array(types.length * 2);
  types.forEach((t, i) => {
    writeU16(out, 2 * i, t);
  });
  return out;
}

/** Decodes UNKNOWN-ATTRIBUTES into its list of types. */
export function decodeUnknownAttributes(value: Uint8Array): number[] {
  if (value.byteLength % 2 !== 0) {
    throw stunError(
      "ERR_STUN_UNKNOWN_ATTRIBUTES",
      `Cannot parse UNKNOWN-ATTRIBUTES: odd length ${value.byteLength}`,
    );
  }
  const out: number[] = [];
  for (let i = 0; i < value.byteLength; i += 2) out.push(readU16(value, i));
  return out;
}

/** Comprehension-required attribute types in msg that are not in `known` (RFC 8489 7.3.1: answer 420). */
export function unknownComprehensionRequired(msg: StunMessage, known: ReadonlySet<number>): number[] {
  const out: number[] = [];
  for (const a of msg.attributes) {
    if (a.type < COMPREHENSION_OPTIONAL_MIN && !known.has(a.type) && !out.includes(a.type)) out.push(a.type);
  }
  return out;
}

/** Largest high half of a u64 whose value stays a safe integer: Number.MAX_SAFE_INTEGER is 2^53 - 1. */
const HIGH_HALF_MAX = 2 ** 21 - 1;

/** Unsigned 64-bit big-endian value (e.g. PVRLINK-TIMESTAMP in unix ms). */
export function encodeU64(n: number): Uint8Array {
  if (!Number.isSafeInteger(n) || n < 0)
    throw new RangeError(`Cannot encode u64: ${n} is not a safe unsigned integer`);
  const out = new Uint8Array(8);
  writeU32(out, 0, Math.floor(n / 2 ** 32));
  writeU32(out, 4, n % 2 ** 32);
  return out;
}

/** Decodes an 8-byte unsigned value; values beyond 2^53 are refused rather than rounded. */
export function decodeU64(value: Uint8Array): number {
  if (value.byteLength !== 8) {
    throw stunError("ERR_STUN_INTEGER", `Cannot parse u64 attribute: length ${value.byteLength} is not 8`);
  }
  // Two 32-bit halves: no BigInt, no DataView. A high half above 2^21 - 1 puts the value past 2^53.
  const high = readU32(value, 0);
  if (high > HIGH_HALF_MAX) throw stunError("ERR_STUN_INTEGER", "Cannot parse u64 attribute: too large");
  return high * 2 ** 32 + readU32(value, 4);
}

/** Unsigned 32-bit big-endian value (e.g. PVRLINK-INTERVAL in seconds). */
export function encodeU32(n: number): Uint8Array {
  if (!Number.isInteger(n) || n < 0 || n > 0xffffffff)
    throw new RangeError(`Cannot encode u32: ${n} is out of range`);
  const out = new Uint8Array(4);
  writeU32(out, 0, n);
  return out;
}

/** Decodes a 4-byte unsigned value. */
export function decodeU32(value: Uint8Array): number {
  if (value.byteLength !== 4) {
    throw stunError("ERR_STUN_INTEGER", `Cannot parse u32 attribute: length ${value.byteLength} is not 4`);
  }
  return readU32(value, 0);
}
