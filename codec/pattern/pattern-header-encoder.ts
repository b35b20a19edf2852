/** @module Writes a pattern header (versions 1 and 2): as pieces that reuse the range table's own bytes, or whole. */

import { createHash } from "node:crypto";
import { codecError } from "../codec-error.ts";
import { concat } from "../split/split-bytes.ts";
import { writePatternFixedHead } from "./pattern-fixed-head.ts";
import {
  checkChains,
  checkPatternRanges,
  MAX_PATTERN_HEADER_BYTES,
  PATTERN_DIGEST_BYTES,
  PATTERN_FIXED_BYTES,
  PATTERN_SALT_BYTES,
  PATTERN_VERSION,
  PATTERN_VERSION_CHAINS,
  patternHeaderLength,
} from "./pattern-header.ts";
import { type PatternRanges, PatternRangeTable } from "./pattern-range-table.ts";
import { encodeScheme, type PatternScheme } from "./pattern-scheme.ts";
import { writeVarint } from "./write-varint.ts";

/** What a header is made from. */
export interface PatternHeaderFields {
  scheme: PatternScheme;
  salt: Uint8Array;
  originalSha256: Uint8Array;
  directBodyLength: number;
  ranges: PatternRanges;
  /** cbcs only (and required there): the first block of each CBC chain. */
  chainStarts?: readonly number[];
}

const SHA256_BYTES = 32;

function fail(code: string, message: string, offset: number): never {
  throw codecError(code, `Cannot read pattern header: ${message}`, offset);
}

/**
 * Encodes a pattern header as the pieces it is made of, in order: the fixed 88 bytes, the range table as views of
 * the table's own storage blocks (not a copy: the table grows with the recording, ~3.3 MB a GiB of SD video, and a
 * sender held it two and three times over, issue 14), then the chain list (cbcs) and the digest. The views are
 * valid while the table is not pushed to. Throws ERR_PATTERN_* CodecErrors on fields it could not decode back.
 */
export function encodePatternHeaderPieces(h: PatternHeaderFields): Uint8Array[] {
  const sc = encodeScheme(h.scheme);
  if (h.salt.length !== PATTERN_SALT_BYTES)
    fail("ERR_PATTERN_SALT", `salt is ${h.salt.length} bytes, not 16`, 20);
  checkBinding(h.originalSha256, h.directBodyLength);
  const ranges = PatternRangeTable.from(h.ranges);
  const sum = checkPatternRanges(ranges, h.directBodyLength);
  const chains = h.scheme.kind === "cbcs" ? (h.chainStarts ?? []) : undefined;
  if (chains === undefined && h.chainStarts !== undefined && h.chainStarts.length > 0)
    fail("ERR_PATTERN_CHAINS", `scheme ${h.scheme.kind} has no CBC chains`, 88);
  if (chains !== undefined) checkChains(chains, sum, 88);
  const length = patternHeaderLength(ranges, chains);
  if (length > MAX_PATTERN_HEADER_BYTES) {
    fail("ERR_PATTERN_HEADER_LENGTH", `${ranges.count} ranges need ${length} bytes, over the limit`, 16);
  }
  const head = new Uint8Array(PATTERN_FIXED_BYTES);
  writePatternFixedHead(head, {
    version: chains === undefined ? PATTERN_VERSION : PATTERN_VERSION_CHAINS,
    scheme: sc,
    length,
    salt: h.salt,
    originalSha256: h.originalSha256,
    directBodyLength: h.directBodyLength,
    rangeCount: ranges.count,
    rangeBytes: sum,
  });
  const table = ranges.encodedViews();
  const tableBytes = table.reduce((n, t) => n + t.length, 0);
  const tail = new Uint8Array(length - PATTERN_FIXED_BYTES - tableBytes);
  let at = 0;
  if (chains !== undefined) {
    at = writeVarint(tail, at, chains.length);
    let prev = 0;
    for (const c of chains) {
      at = writeVarint(tail, at, c - prev);
      prev = c;
    }
  }
  const hash = createHash("sha256").update(head);
  for (const t of table) hash.update(t);
  tail.set(hash.update(tail.subarray(0, at)).digest(), at);
  return [head, ...table, tail];
}

/** Encodes a pattern header whole. Throws ERR_PATTERN_* CodecErrors on fields it could not decode back. */
export function encodePatternHeader(h: PatternHeaderFields): Uint8Array {
  return concat(encodePatternHeaderPieces(h));
}

/** The checks of the two fields a header takes from the split header (offsets as in the layout). */
function checkBinding(originalSha256: Uint8Array, directBodyLength: number): void {
  if (originalSha256.length !== SHA256_BYTES) fail("ERR_PATTERN_HASH", "original hash is not 32 bytes", 36);
  if (!Number.isSafeInteger(directBodyLength) || directBodyLength < 0) {
    fail("ERR_PATTERN_LENGTH", `direct body length ${directBodyLength} is not a size`, 68);
  }
}

/**
 * The header `encodePatternHeader()` would make for the same scheme, salt and ranges with this original hash and
 * direct body length, made from an encoded `header` by rewriting those two fields and its digest. `tableEnd` is
 * where the last range ends (0 for none). Throws like encodePatternHeader() on a bad hash or length, and
 * ERR_PATTERN_RANGES when the table runs past the new body. `o.inPlace`: rewrites `header` itself and returns it,
 * for a caller that drops its first header (a version 3 header is ~3.8 MB per GiB of TS: a copy had both whole at
 * once, issue 14).
 */
export function rebindPatternHeader(
  header: Uint8Array,
  binding: { originalSha256: Uint8Array; directBodyLength: number; tableEnd: number },
  o: { inPlace?: boolean } = {},
): Uint8Array {
  const { originalSha256, directBodyLength, tableEnd } = binding;
  checkBinding(originalSha256, directBodyLength);
  if (tableEnd > directBodyLength) {
    fail("ERR_PATTERN_RANGES", `the ranges end at ${tableEnd}, past the ${directBodyLength}-byte body`, 88);
  }
  const out = o.inPlace === true ? header : header.slice();
  out.set(originalSha256, 36);
  new DataView(out.buffer, out.byteOffset, out.byteLength).setBigUint64(68, BigInt(directBodyLength));
  const at = out.length - PATTERN_DIGEST_BYTES;
  out.set(createHash("sha256").update(out.subarray(0, at)).digest(), at);
  return out;
}
