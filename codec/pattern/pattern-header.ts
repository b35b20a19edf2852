/** @module The pattern header: the table of encrypted direct-body ranges that a pattern-mode direct part carries right after its split header. */

import { createHash } from "node:crypto";
import { codecError } from "../codec-error.ts";
import { type PatternRanges, PatternRangeTable, WINDOW_ROWS } from "./pattern-range-table.ts";
import { decodeScheme, type PatternScheme } from "./pattern-scheme.ts";
import { TableVarintReader } from "./table-varint-reader.ts";

// Layout (integers big-endian; varints unsigned LEB128); docs/security.md is the reference; the encoder is
// pattern-header-encoder.ts:
//
//   offset  size  field
//   0       8     magic "PVRPATRN"
//   8       1     version (1)
//   9       1     scheme: 1 slice-start, 2 block, 3 full (pattern-scheme.ts)
//   10      2     scheme parameter a: slice-start bytes | block crypt blocks | 0
//   12      2     scheme parameter b: block skip blocks | 0
//   14      2     reserved, 0
//   16      4     header length H
//   20      16    salt: makes the transfer's key (crypto/keystream.ts); fresh from the CSPRNG per transfer
//   36      32    SHA-256 of the original recording: pairs this header with its split header
//   68      8     direct body length: pairs it with the body it describes
//   76      4     range count N
//   80      8     encrypted bytes: Σ range lengths
//   88      …     N × (gap varint, length varint); gap = offset − end of the previous range (0 before the first)
//   (version 2 only) chain count M varint, then M varints: the first chain's first block, then each chain's
//                 first block minus the previous chain's (blocks numbered 0, 1, … over the encrypted bytes in
//                 order, 16 bytes each)
//   H − 32  32    SHA-256 of header bytes [0, H − 32)
//
// Versions 3 (slice-block in ES coordinates) and 4 (cbcs in ES coordinates), pattern-header-v3.ts, share the
// fixed bytes and the digest; so does version 5 (pattern-header-v5.ts), which has no table: its rows come in
// segments between the body's stretches (pattern-segment.ts).
//
// Version 2 is written for the cbcs scheme (5) only, and only with it is read: a version 1 reader refuses it
// (ERR_PATTERN_VERSION) rather than decrypting CBC as a keystream, and every version 1 header still reads.
//
// Why a table rather than re-parsing at the receiver: once slice bytes are ciphertext they may emulate
// start codes, so the receiver could not find the slices again. Delta varints keep it near 3 bytes a range.

/** Identifies a pattern header; 8 ASCII bytes like the split magic. */
export const PATTERN_MAGIC = new TextEncoder().encode("PVRPATRN");
export const PATTERN_VERSION = 1;
/** The version that carries CBC chain starts (scheme cbcs). */
export const PATTERN_VERSION_CHAINS = 2;
/** The version that carries a slice-block plan in ES coordinates (pattern-header-v3.ts). */
export const PATTERN_VERSION_ES = 3;

/** The version that carries a cbcs plan in ES coordinates (pattern-header-v3.ts: version 3's layout). */
export const PATTERN_VERSION_CBCS_ES = 4;

/**
 * The version that sends version 1's table in segments, each ahead of the body it covers (pattern-header-v5.ts,
 * pattern-segment.ts): the receiver holds one segment, not the table.
 */
export const PATTERN_VERSION_SEGMENTED = 5;

/** Every pattern header version PatternDirectDecoder reads: what a receiver's ACCEPTED lists. */
export const PATTERN_VERSIONS_READ: readonly number[] = [1, 2, 3, 4, 5];

/**
 * The header versions a plan can be written in, the preferred first: 4 for a cbcs plan in ES coordinates, 3 for
 * a slice-block one, 2 for cbcs chains, else 5 (the table in segments) and then 1 (the table whole, for a
 * receiver from before version 5).
 */
export function patternHeaderVersionsOf(plan: {
  scheme: { kind: string };
  es?: { scheme: { kind: string } } | undefined;
}): readonly number[] {
  if (plan.es !== undefined)
    return [plan.es.scheme.kind === "cbcs" ? PATTERN_VERSION_CBCS_ES : PATTERN_VERSION_ES];
  return plan.scheme.kind === "cbcs"
    ? [PATTERN_VERSION_CHAINS]
    : [PATTERN_VERSION_SEGMENTED, PATTERN_VERSION];
}
/** Bytes before the range table. */
export const PATTERN_FIXED_BYTES = 88;
export const PATTERN_DIGEST_BYTES = 32;
export const PATTERN_SALT_BYTES = 16;
/** Largest header a reader buffers (it must be whole before its digest is checked): 64 MiB. */
export const MAX_PATTERN_HEADER_BYTES = 64 * 1024 * 1024;
/** What a pattern header says. */
export interface PatternHeader {
  scheme: PatternScheme;
  salt: Uint8Array;
  /** SHA-256 of the original recording, as in the split header. */
  originalSha256: Uint8Array;
  directBodyLength: number;
  ranges: PatternRangeTable;
  encryptedBytes: number;
  headerLength: number;
  /** cbcs: the first block of each CBC chain, ascending from 0; empty for the other schemes. */
  chainStarts: readonly number[];
}

function fail(code: string, message: string, offset: number): never {
  throw codecError(code, `Cannot read pattern header: ${message}`, offset);
}

/** Below this a value fits 31 bits and the varint code can shift instead of divide (hundreds of thousands of calls). */
const SMALL_VARINT = 0x80000000;

function varintLength(v: number): number {
  if (v < 0x80) return 1;
  if (v < SMALL_VARINT) return v < 0x4000 ? 2 : v < 0x200000 ? 3 : v < 0x10000000 ? 4 : 5;
  let n = 1;
  while (v >= 0x80) {
    v = Math.floor(v / 128);
    n++;
  }
  return n;
}

/** Checks a range table against a body length; returns Σ lengths. Throws ERR_PATTERN_RANGES. */
export function checkPatternRanges(ranges: PatternRanges, bodyLength: number, at = 0): number {
  const table = PatternRangeTable.from(ranges);
  let end = 0;
  let sum = 0;
  const rows = new Float64Array(2 * WINDOW_ROWS);
  for (let i = 0; i < table.count; ) {
    const n = table.readRows(i, rows);
    for (let r = 0; r < 2 * n; r += 2, i++) {
      const offset = rows[r]!;
      const length = rows[r + 1]!;
      const okStart = i === 0 ? offset >= 0 : offset > end;
      if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || length <= 0 || !okStart) {
        fail(
          "ERR_PATTERN_RANGES",
          `range ${i} (${offset}+${length}) is empty, adjacent, overlapping or out of order`,
          at,
        );
      }
      end = offset + length;
      if (end > bodyLength)
        fail("ERR_PATTERN_RANGES", `range ${i} ends at ${end}, past the ${bodyLength}-byte body`, at);
      sum += length;
    }
  }
  return sum;
}

/**
 * The length of the header encodePatternHeader() makes for this range table (it depends on nothing else), without
 * making it. The ranges are not checked here: encodePatternHeader() and checkPatternRanges() do that.
 */
export function patternHeaderLength(ranges: PatternRanges, chainStarts?: readonly number[]): number {
  // The table stores its ranges as the header does: its encoded size is the table's size.
  let tableBytes = PatternRangeTable.from(ranges).encodedBytes;
  if (chainStarts !== undefined) {
    tableBytes += varintLength(chainStarts.length);
    let prev = 0;
    for (const c of chainStarts) {
      tableBytes += varintLength(c - prev);
      prev = c;
    }
  }
  return PATTERN_FIXED_BYTES + tableBytes + PATTERN_DIGEST_BYTES;
}

/**
 * Checks cbcs chain starts against the encrypted bytes: whole blocks only, and chains that begin at block 0,
 * ascend strictly and begin inside the blocks. Throws ERR_PATTERN_CHAINS.
 */
export function checkChains(chains: readonly number[], encryptedBytes: number, at: number): void {
  if (encryptedBytes % 16 !== 0)
    fail("ERR_PATTERN_CHAINS", `${encryptedBytes} encrypted bytes are not whole 16-byte blocks`, at);
  const blocks = encryptedBytes / 16;
  if (blocks > 0 && chains[0] !== 0)
    fail("ERR_PATTERN_CHAINS", "the first chain does not begin at block 0", at);
  for (let i = 0; i < chains.length; i++) {
    const c = chains[i]!;
    if (!Number.isSafeInteger(c) || c >= blocks || (i > 0 && c <= chains[i - 1]!))
      fail(
        "ERR_PATTERN_CHAINS",
        `chain ${i} begins at block ${c}, not ascending inside ${blocks} blocks`,
        at,
      );
  }
}

/**
 * The header length announced by the first bytes, or undefined until 20 bytes are in. Throws ERR_PATTERN_MAGIC,
 * ERR_PATTERN_VERSION or ERR_PATTERN_HEADER_LENGTH so a reader never buffers toward a nonsense length.
 */
export function peekPatternHeaderLength(bytes: Uint8Array): number | undefined {
  const magicSeen = Math.min(bytes.length, PATTERN_MAGIC.length);
  for (let i = 0; i < magicSeen; i++) {
    if (bytes[i] !== PATTERN_MAGIC[i]) fail("ERR_PATTERN_MAGIC", "it does not start with PVRPATRN", i);
  }
  if (
    bytes.length > 8 &&
    bytes[8] !== PATTERN_VERSION &&
    bytes[8] !== PATTERN_VERSION_CHAINS &&
    bytes[8] !== PATTERN_VERSION_ES &&
    bytes[8] !== PATTERN_VERSION_CBCS_ES &&
    bytes[8] !== PATTERN_VERSION_SEGMENTED
  ) {
    fail("ERR_PATTERN_VERSION", `version ${bytes[8]} is not 1, 2, 3, 4 or 5`, 8);
  }
  if (bytes.length < 20) return undefined;
  const length = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(16);
  if (length < PATTERN_FIXED_BYTES + PATTERN_DIGEST_BYTES || length > MAX_PATTERN_HEADER_BYTES) {
    fail(
      "ERR_PATTERN_HEADER_LENGTH",
      `length ${length} is outside ${PATTERN_FIXED_BYTES + 32}..${MAX_PATTERN_HEADER_BYTES}`,
      16,
    );
  }
  return length;
}

/**
 * Checks that `bytes` are exactly one whole pattern header (any version) whose digest matches, before any other
 * field is believed; returns where the digest begins (the table's end). Throws ERR_PATTERN_TRUNCATED,
 * ERR_PATTERN_HEADER_LENGTH or ERR_PATTERN_HEADER_DIGEST, and what peekPatternHeaderLength() throws.
 */
export function checkPatternHeaderBytes(bytes: Uint8Array): number {
  const length = peekPatternHeaderLength(bytes);
  if (length === undefined || bytes.length < length) {
    fail(
      "ERR_PATTERN_TRUNCATED",
      `${bytes.length} bytes are fewer than the header's ${length ?? 20}`,
      bytes.length,
    );
  }
  if (bytes.length !== length)
    fail("ERR_PATTERN_HEADER_LENGTH", `given ${bytes.length} bytes, header says ${length}`, 16);
  const digestAt = length - PATTERN_DIGEST_BYTES;
  const digest = createHash("sha256").update(bytes.subarray(0, digestAt)).digest();
  if (!digest.equals(bytes.subarray(digestAt)))
    fail("ERR_PATTERN_HEADER_DIGEST", "the header digest does not match", digestAt);
  return digestAt;
}

/**
 * Decodes a whole pattern header (exactly its bytes). Throws ERR_PATTERN_* CodecErrors, digest first. The ranges
 * are a view of `bytes` (PatternRangeTable.fromEncoded): the caller must not change them afterwards.
 */
export function decodePatternHeader(bytes: Uint8Array): PatternHeader {
  const digestAt = checkPatternHeaderBytes(bytes);
  const length = digestAt + PATTERN_DIGEST_BYTES;
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (v.getUint8(8) === PATTERN_VERSION_ES || v.getUint8(8) === PATTERN_VERSION_CBCS_ES)
    fail("ERR_PATTERN_VERSION", `version ${v.getUint8(8)} is read by decodePatternHeaderV3()`, 8);
  if (v.getUint8(8) === PATTERN_VERSION_SEGMENTED)
    fail("ERR_PATTERN_VERSION", "version 5 is read by decodePatternHeaderV5()", 8);
  const scheme = decodeScheme(v.getUint8(9), v.getUint16(10), v.getUint16(12));
  if (scheme === undefined)
    fail(
      "ERR_PATTERN_SCHEME",
      `scheme ${v.getUint8(9)} with ${v.getUint16(10)}, ${v.getUint16(12)} is unknown`,
      9,
    );
  if (v.getUint16(14) !== 0) fail("ERR_PATTERN_FLAGS", "reserved bytes are not 0", 14);
  const withChains = v.getUint8(8) === PATTERN_VERSION_CHAINS;
  if (withChains !== (scheme.kind === "cbcs"))
    fail("ERR_PATTERN_VERSION", `version ${v.getUint8(8)} does not carry scheme ${scheme.kind}`, 8);
  const body = v.getBigUint64(68);
  const total = v.getBigUint64(80);
  if (body > BigInt(Number.MAX_SAFE_INTEGER) || total > body)
    fail("ERR_PATTERN_LENGTH", `lengths ${body}/${total} are not sizes`, 68);
  const directBodyLength = Number(body);
  const count = v.getUint32(76);
  // Each range takes at least two table bytes: a count beyond that is a lie before any varint is read.
  if (count * 2 > digestAt - PATTERN_FIXED_BYTES)
    fail("ERR_PATTERN_RANGES", `${count} ranges cannot fit the table`, 76);
  const table = new TableVarintReader(bytes, PATTERN_FIXED_BYTES, digestAt);
  const readVarint = (): number => table.next();
  // Every number read once, checked; the table then keeps the rows as these bytes hold them, not a copy.
  for (let i = 0; i < 2 * count; i++) readVarint();
  const ranges = PatternRangeTable.fromEncoded(bytes.subarray(PATTERN_FIXED_BYTES, table.at), count);
  const chainStarts: number[] = [];
  if (withChains) {
    const chainsAt = table.at;
    const m = readVarint();
    // Each chain takes at least one table byte.
    if (m > digestAt - table.at) fail("ERR_PATTERN_CHAINS", `${m} chains cannot fit the table`, chainsAt);
    let prev = 0;
    for (let i = 0; i < m; i++) {
      prev += readVarint();
      chainStarts.push(prev);
    }
  }
  if (table.at !== digestAt)
    fail("ERR_PATTERN_RANGES", `${digestAt - table.at} bytes follow the range table`, table.at);
  const sum = checkPatternRanges(ranges, directBodyLength, PATTERN_FIXED_BYTES);
  if (sum !== Number(total)) fail("ERR_PATTERN_LENGTH", `ranges sum to ${sum}, header says ${total}`, 80);
  if (withChains) checkChains(chainStarts, sum, PATTERN_FIXED_BYTES);
  return {
    scheme,
    salt: bytes.slice(20, 36),
    originalSha256: bytes.slice(36, 68),
    directBodyLength,
    ranges,
    encryptedBytes: sum,
    headerLength: length,
    chainStarts,
  };
}
