/** @module The binary header that opens each part of a split recording: what the part is, the range table, and the original's SHA-256. */
import { createHash } from "node:crypto";
import { codecError } from "../codec-error.ts";
import type { ByteRange, ContainerKind } from "../recording-index.ts";

// Part layout (all integers big-endian); docs/split-format.md is the reference:
//
//   offset        size  field
//   0             8     magic "PVRSPLIT"
//   8             1     format version (1)
//   9             1     part: 1 protected, 2 direct
//   10            1     container: 1 es, 2 ps, 3 ts, 4 m2ts, 5 mp4
//   11            1     flags, reserved, 0
//   12            4     header length in bytes = 100 + 20 * range count
//   16            8     original length in bytes
//   24            8     body length in bytes (what follows the header in this part)
//   32            4     range count N
//   36            32    SHA-256 of the original recording
//   68            20*N  ranges: serial (u32), offset (u64), length (u64), sorted, disjoint, non-empty
//   68+20N        32    SHA-256 of header bytes [0, 68+20N)
//   100+20N       ...   body: the protected part carries the bytes of the ranges in order, the direct part the rest
//
// Both parts carry the same table and the same original hash, so each can be checked alone and the pair
// cross-checked. The header digest catches a damaged header before any byte is routed by it.

/** Identifies a pvrlink split part; 8 ASCII bytes so `head -c8` tells what a file is. */
export const SPLIT_MAGIC = new TextEncoder().encode("PVRSPLIT");
/** Format version; a reader refuses any other (ERR_SPLIT_VERSION) rather than guess. */
export const SPLIT_VERSION = 1;
/** Part codes (byte 9). */
export const PART_PROTECTED = 1;
export const PART_DIRECT = 2;
/** Bytes before the range table. */
export const SPLIT_FIXED_BYTES = 68;
/** Bytes per range table entry: serial u32, offset u64, length u64. */
export const SPLIT_RANGE_BYTES = 20;
/** The trailing header digest (SHA-256). */
export const SPLIT_DIGEST_BYTES = 32;
/** SHA-256 output length (FIPS 180-4). */
export const SHA256_BYTES = 32;
/**
 * Most ranges a header may declare. A reader buffers the whole header before it can check its digest, so this
 * bounds what a damaged count can make it hold (about 80 MiB); a 4 GiB TS recording needs well under 1 M ranges.
 */
export const MAX_SPLIT_RANGES = 4_000_000;

const CONTAINER_CODES: Record<ContainerKind, number> = { es: 1, ps: 2, ts: 3, m2ts: 4, mp4: 5 };
const CONTAINERS_BY_CODE = new Map<number, ContainerKind>(
  Object.entries(CONTAINER_CODES).map(([k, v]) => [v, k as ContainerKind]),
);

export type SplitPartKind = "protected" | "direct";

/** One range of the original that travels in the protected part, with its serial (0, 1, 2, ... in file order). */
export interface SplitRange extends ByteRange {
  serial: number;
}

/** What a part header says. */
export interface SplitHeader {
  part: SplitPartKind;
  container: ContainerKind;
  /** Length of the original recording. */
  originalLength: number;
  /** Length of this part's body; protected: the sum of the range lengths, direct: the rest. */
  bodyLength: number;
  /** SHA-256 of the original recording. */
  sha256: Uint8Array;
  ranges: SplitRange[];
  /** Bytes the header occupies at the start of the part. */
  headerLength: number;
}

/** What both headers of a split are made from. */
export interface SplitPlan {
  container: ContainerKind;
  originalLength: number;
  sha256: Uint8Array;
  ranges: readonly ByteRange[];
}

/** Header length for n ranges. */
export function splitHeaderLengthFor(rangeCount: number): number {
  return SPLIT_FIXED_BYTES + SPLIT_RANGE_BYTES * rangeCount + SPLIT_DIGEST_BYTES;
}

/**
 * Checks that ranges are a valid protected-range table for an original of totalLength bytes: integers, non-empty,
 * sorted, disjoint and inside the original. Returns the sum of their lengths.
 */
export function checkSplitRanges(ranges: readonly ByteRange[], totalLength: number, at = 0): number {
  if (!Number.isSafeInteger(totalLength) || totalLength < 0) {
    throw codecError("ERR_SPLIT_LENGTH", `Cannot split: original length ${totalLength} is not a size`, at);
  }
  if (ranges.length > MAX_SPLIT_RANGES) {
    throw codecError(
      "ERR_SPLIT_RANGES",
      `Cannot use range table: ${ranges.length} ranges exceed the limit of ${MAX_SPLIT_RANGES}`,
      at,
    );
  }
  let end = 0;
  let sum = 0;
  for (let i = 0; i < ranges.length; i++) {
    const r = ranges[i]!;
    if (
      !Number.isSafeInteger(r.offset) ||
      !Number.isSafeInteger(r.length) ||
      r.length <= 0 ||
      r.offset < end
    ) {
      throw codecError(
        "ERR_SPLIT_RANGES",
        `Cannot use range table: range ${i} (${r.offset}+${r.length}) is empty, overlaps or is out of order`,
        at,
      );
    }
    end = r.offset + r.length;
    if (end > totalLength) {
      throw codecError(
        "ERR_SPLIT_RANGES",
        `Cannot use range table: range ${i} ends at ${end}, past the original's ${totalLength} bytes`,
        at,
      );
    }
    sum += r.length;
  }
  return sum;
}

/** Builds the protected and the direct header of one split. */
export function encodeSplitHeaders(plan: SplitPlan): { protected: Uint8Array; direct: Uint8Array } {
  const protectedBytes = checkSplitRanges(plan.ranges, plan.originalLength);
  if (plan.sha256.length !== SHA256_BYTES) {
    throw codecError("ERR_SPLIT_HASH", `Cannot split: hash is ${plan.sha256.length} bytes, not 32`, 0);
  }
  return {
    protected: encodeOne(plan, PART_PROTECTED, protectedBytes),
    direct: encodeOne(plan, PART_DIRECT, plan.originalLength - protectedBytes),
  };
}

function encodeOne(plan: SplitPlan, part: number, bodyLength: number): Uint8Array {
  const n = plan.ranges.length;
  const length = splitHeaderLengthFor(n);
  const out = new Uint8Array(length);
  const view = new DataView(out.buffer, out.byteOffset, out.byteLength);
  out.set(SPLIT_MAGIC, 0);
  out[8] = SPLIT_VERSION;
  out[9] = part;
  out[10] = CONTAINER_CODES[plan.container];
  out[11] = 0;
  view.setUint32(12, length);
  view.setBigUint64(16, BigInt(plan.originalLength));
  view.setBigUint64(24, BigInt(bodyLength));
  view.setUint32(32, n);
  out.set(plan.sha256, 36);
  let at = SPLIT_FIXED_BYTES;
  for (let i = 0; i < n; i++) {
    const r = plan.ranges[i]!;
    view.setUint32(at, i);
    view.setBigUint64(at + 4, BigInt(r.offset));
    view.setBigUint64(at + 12, BigInt(r.length));
    at += SPLIT_RANGE_BYTES;
  }
  out.set(createHash("sha256").update(out.subarray(0, at)).digest(), at);
  return out;
}

/**
 * Reads as much of a header as `bytes` holds and returns its total length, or undefined when fewer than
 * SPLIT_FIXED_BYTES are there yet. Throws ERR_SPLIT_MAGIC, ERR_SPLIT_VERSION or ERR_SPLIT_HEADER_LENGTH as soon
 * as the bytes seen rule a header out, so a streaming reader never waits for bytes of something that is not one.
 */
export function peekSplitHeaderLength(bytes: Uint8Array): number | undefined {
  const seen = Math.min(bytes.length, SPLIT_MAGIC.length);
  for (let i = 0; i < seen; i++) {
    if (bytes[i] !== SPLIT_MAGIC[i]) {
      throw codecError("ERR_SPLIT_MAGIC", "Cannot read split part: it does not start with PVRSPLIT", i);
    }
  }
  if (bytes.length > 8 && bytes[8] !== SPLIT_VERSION) {
    throw codecError(
      "ERR_SPLIT_VERSION",
      `Cannot read split part: format version ${bytes[8]} is not ${SPLIT_VERSION}`,
      8,
    );
  }
  if (bytes.length < SPLIT_FIXED_BYTES) return undefined;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = view.getUint32(12);
  const count = view.getUint32(32);
  if (count > MAX_SPLIT_RANGES || headerLength !== splitHeaderLengthFor(count)) {
    throw codecError(
      "ERR_SPLIT_HEADER_LENGTH",
      `Cannot read split part: header length ${headerLength} does not fit ${count} ranges`,
      12,
    );
  }
  return headerLength;
}

function readU64(view: DataView, at: number, what: string): number {
  const v = view.getBigUint64(at);
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw codecError("ERR_SPLIT_LENGTH", `Cannot read split part: ${what} ${v} is beyond 2^53`, at);
  }
  return Number(v);
}

/**
 * Decodes and checks the header at the start of `bytes` (which may go on into the body). Every failure is a
 * CodecError with a stable ERR_SPLIT_* code: TRUNCATED when bytes end inside the header.
 */
export function decodeSplitHeader(bytes: Uint8Array): SplitHeader {
  const headerLength = peekSplitHeaderLength(bytes);
  if (headerLength === undefined || bytes.length < headerLength) {
    throw codecError(
      "ERR_SPLIT_TRUNCATED",
      `Cannot read split part: it ends at byte ${bytes.length}, inside its ${headerLength ?? SPLIT_FIXED_BYTES}-byte header`,
      bytes.length,
    );
  }
  const digestAt = headerLength - SPLIT_DIGEST_BYTES;
  const digest = createHash("sha256").update(bytes.subarray(0, digestAt)).digest();
  for (let i = 0; i < SPLIT_DIGEST_BYTES; i++) {
    if (digest[i] !== bytes[digestAt + i]) {
      throw codecError(
        "ERR_SPLIT_HEADER_DIGEST",
        "Cannot read split part: header digest does not match, the header is damaged",
        digestAt,
      );
    }
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const partCode = bytes[9];
  if (partCode !== PART_PROTECTED && partCode !== PART_DIRECT) {
    throw codecError("ERR_SPLIT_PART", `Cannot read split part: part code ${partCode} is not 1 or 2`, 9);
  }
  const container = CONTAINERS_BY_CODE.get(bytes[10]!);
  if (container === undefined) {
    throw codecError(
      "ERR_SPLIT_CONTAINER",
      `Cannot read split part: container code ${bytes[10]} unknown`,
      10,
    );
  }
  if (bytes[11] !== 0) {
    throw codecError("ERR_SPLIT_FLAGS", `Cannot read split part: reserved flags ${bytes[11]} are not 0`, 11);
  }
  const originalLength = readU64(view, 16, "original length");
  const bodyLength = readU64(view, 24, "body length");
  const count = view.getUint32(32);
  const ranges: SplitRange[] = [];
  for (let i = 0, at = SPLIT_FIXED_BYTES; i < count; i++, at += SPLIT_RANGE_BYTES) {
    const serial = view.getUint32(at);
    if (serial !== i) {
      throw codecError("ERR_SPLIT_RANGES", `Cannot read split part: range ${i} has serial ${serial}`, at);
    }
    ranges.push({
      serial,
      offset: readU64(view, at + 4, "range offset"),
      length: readU64(view, at + 12, "range length"),
    });
  }
  const protectedBytes = checkSplitRanges(ranges, originalLength, SPLIT_FIXED_BYTES);
  const part: SplitPartKind = partCode === PART_PROTECTED ? "protected" : "direct";
  const expected = part === "protected" ? protectedBytes : originalLength - protectedBytes;
  if (bodyLength !== expected) {
    throw codecError(
      "ERR_SPLIT_LENGTH",
      `Cannot read split part: ${part} body length ${bodyLength} should be ${expected} by its range table`,
      24,
    );
  }
  return {
    part,
    container,
    originalLength,
    bodyLength,
    sha256: bytes.slice(36, 36 + SHA256_BYTES),
    ranges,
    headerLength,
  };
}

/** Throws ERR_SPLIT_PAIR unless a and b are the two different parts of one split. */
export function checkSplitPair(a: SplitHeader, b: SplitHeader): void {
  const why =
    a.part === b.part
      ? `both parts are ${a.part}`
      : a.container !== b.container
        ? "containers differ"
        : a.originalLength !== b.originalLength
          ? "original lengths differ"
          : !sameBytes(a.sha256, b.sha256)
            ? "original hashes differ"
            : !sameRanges(a.ranges, b.ranges)
              ? "range tables differ"
              : undefined;
  if (why !== undefined) {
    throw codecError("ERR_SPLIT_PAIR", `Cannot merge: the parts are not from one split (${why})`, 0);
  }
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

function sameRanges(a: readonly SplitRange[], b: readonly SplitRange[]): boolean {
  return a.length === b.length && a.every((r, i) => r.offset === b[i]!.offset && r.length === b[i]!.length);
}
