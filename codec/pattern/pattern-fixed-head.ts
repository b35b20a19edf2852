/** @module The pattern header's fixed 88 bytes, written in one place for every version (docs/security.md, "Wire format: the pattern header"). */
import { PATTERN_MAGIC } from "./pattern-header.ts";

// Field offsets of the fixed bytes, docs/security.md "Wire format: the pattern header"; integers big-endian.
const VERSION_AT = 8;
const SCHEME_AT = 9;
const SCHEME_A_AT = 10;
const SCHEME_B_AT = 12;
const FLAGS_AT = 14;
const LENGTH_AT = 16;
const SALT_AT = 20;
const ORIGINAL_SHA256_AT = 36;
const DIRECT_BODY_LENGTH_AT = 68;
const RANGE_COUNT_AT = 76;
const RANGE_BYTES_AT = 80;

/** The fixed fields, already checked by the version's encoder. */
export interface PatternFixedHead {
  version: number;
  /** The scheme as encodeScheme() gives it. */
  scheme: { code: number; a: number; b: number };
  /** 0 but for version 4's bits. */
  flags?: number;
  /** The whole header's length H. */
  length: number;
  salt: Uint8Array;
  originalSha256: Uint8Array;
  directBodyLength: number;
  /** N: rows (versions 1, 2, 5) or slices (versions 3, 4). */
  rangeCount: number;
  /** Σ range lengths, or the bytes the scheme's rule applies in. */
  rangeBytes: number;
}

/** Writes the fixed 88 bytes of a pattern header at out[0]. */
export function writePatternFixedHead(out: Uint8Array, f: PatternFixedHead): void {
  const v = new DataView(out.buffer, out.byteOffset, out.byteLength);
  out.set(PATTERN_MAGIC, 0);
  v.setUint8(VERSION_AT, f.version);
  v.setUint8(SCHEME_AT, f.scheme.code);
  v.setUint16(SCHEME_A_AT, f.scheme.a);
  v.setUint16(SCHEME_B_AT, f.scheme.b);
  v.setUint16(FLAGS_AT, f.flags ?? 0);
  v.setUint32(LENGTH_AT, f.length);
  out.set(f.salt, SALT_AT);
  out.set(f.originalSha256, ORIGINAL_SHA256_AT);
  v.setBigUint64(DIRECT_BODY_LENGTH_AT, BigInt(f.directBodyLength));
  v.setUint32(RANGE_COUNT_AT, f.rangeCount);
  v.setBigUint64(RANGE_BYTES_AT, BigInt(f.rangeBytes));
}
