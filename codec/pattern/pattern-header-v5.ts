/** @module Pattern header version 5: version 1's fixed fields with no table; the rows follow in segments, each ahead of the body stretch it covers (pattern-segment.ts). */

import { createHash } from "node:crypto";
import { codecError } from "../codec-error.ts";
import { writePatternFixedHead } from "./pattern-fixed-head.ts";
import {
  checkPatternHeaderBytes,
  PATTERN_DIGEST_BYTES,
  PATTERN_FIXED_BYTES,
  PATTERN_SALT_BYTES,
  PATTERN_VERSION_SEGMENTED,
} from "./pattern-header.ts";
import { decodeScheme, encodeScheme, type PatternScheme } from "./pattern-scheme.ts";

// Layout (docs/split-format.md, "Pattern header version 5: the table in segments"): version 1's fixed 88 bytes
// with version 5 at byte 8 and any scheme but cbcs (whose chains version 2 carries); the range count at 76 and
// the encrypted bytes at 80 (Σ range lengths) are the totals of all segments, checked when the last has passed;
// then at once the digest: H = 120. Segments and body stretches follow (pattern-segment.ts).

/** Length of every version 5 header: the fixed bytes and the digest. */
export const PATTERN_HEADER_V5_BYTES = PATTERN_FIXED_BYTES + PATTERN_DIGEST_BYTES;

/** What a version 5 header says (and is made from). */
export interface PatternHeaderV5 {
  scheme: PatternScheme;
  salt: Uint8Array;
  originalSha256: Uint8Array;
  directBodyLength: number;
  /** Rows in all segments. */
  rangeCount: number;
  /** Σ row lengths in all segments. */
  rangeBytes: number;
}

function fail(code: string, message: string, offset: number): never {
  throw codecError(code, `Cannot read pattern header: ${message}`, offset);
}

/** Encodes a version 5 header. Throws ERR_PATTERN_* CodecErrors on fields it could not decode back. */
export function encodePatternHeaderV5(h: PatternHeaderV5): Uint8Array {
  if (h.scheme.kind === "cbcs") fail("ERR_PATTERN_SCHEME", "version 5 does not carry cbcs chains", 9);
  const sc = encodeScheme(h.scheme);
  if (h.salt.length !== PATTERN_SALT_BYTES)
    fail("ERR_PATTERN_SALT", `salt is ${h.salt.length} bytes, not 16`, 20);
  if (h.originalSha256.length !== 32) fail("ERR_PATTERN_HASH", "original hash is not 32 bytes", 36);
  for (const [name, n] of [
    ["direct body length", h.directBodyLength],
    ["range bytes", h.rangeBytes],
  ] as const)
    if (!Number.isSafeInteger(n) || n < 0) fail("ERR_PATTERN_LENGTH", `${name} ${n} is not a size`, 68);
  if (h.rangeBytes > h.directBodyLength)
    fail("ERR_PATTERN_LENGTH", `${h.rangeBytes} range bytes exceed the ${h.directBodyLength}-byte body`, 80);
  if (!Number.isInteger(h.rangeCount) || h.rangeCount < 0 || h.rangeCount > 0xffffffff)
    fail("ERR_PATTERN_RANGES", `range count ${h.rangeCount} does not fit 32 bits`, 76);
  const out = new Uint8Array(PATTERN_HEADER_V5_BYTES);
  writePatternFixedHead(out, {
    version: PATTERN_VERSION_SEGMENTED,
    scheme: sc,
    length: PATTERN_HEADER_V5_BYTES,
    salt: h.salt,
    originalSha256: h.originalSha256,
    directBodyLength: h.directBodyLength,
    rangeCount: h.rangeCount,
    rangeBytes: h.rangeBytes,
  });
  out.set(createHash("sha256").update(out.subarray(0, PATTERN_FIXED_BYTES)).digest(), PATTERN_FIXED_BYTES);
  return out;
}

/** Decodes a whole version 5 header (exactly its bytes). Throws ERR_PATTERN_* CodecErrors, digest first. */
export function decodePatternHeaderV5(bytes: Uint8Array): PatternHeaderV5 {
  const digestAt = checkPatternHeaderBytes(bytes);
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (v.getUint8(8) !== PATTERN_VERSION_SEGMENTED)
    fail("ERR_PATTERN_VERSION", `version ${v.getUint8(8)} is not 5`, 8);
  if (digestAt !== PATTERN_FIXED_BYTES)
    fail("ERR_PATTERN_HEADER_LENGTH", `length ${bytes.length} is not ${PATTERN_HEADER_V5_BYTES}`, 16);
  const scheme = decodeScheme(v.getUint8(9), v.getUint16(10), v.getUint16(12));
  if (scheme === undefined || scheme.kind === "cbcs")
    fail("ERR_PATTERN_SCHEME", `scheme ${v.getUint8(9)} is unknown or not carried by version 5`, 9);
  if (v.getUint16(14) !== 0) fail("ERR_PATTERN_FLAGS", "reserved bytes are not 0", 14);
  const body = v.getBigUint64(68);
  const total = v.getBigUint64(80);
  if (body > BigInt(Number.MAX_SAFE_INTEGER) || total > body)
    fail("ERR_PATTERN_LENGTH", `lengths ${body}/${total} are not sizes`, 68);
  return {
    scheme,
    salt: bytes.slice(20, 36),
    originalSha256: bytes.slice(36, 68),
    directBodyLength: Number(body),
    rangeCount: v.getUint32(76),
    rangeBytes: Number(total),
  };
}
