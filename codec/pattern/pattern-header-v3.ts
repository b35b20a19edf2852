/** @module Pattern header versions 3 and 4: a slice-block (3) or cbcs (4) plan in elementary-stream coordinates (slice spans and ES-to-body unit runs) instead of a row per encrypted range. */

import { createHash } from "node:crypto";
import { codecError } from "../codec-error.ts";
import { type EsPatternPlan, RUN_FIELDS } from "./es-pattern-plan.ts";
import { writePatternFixedHead } from "./pattern-fixed-head.ts";
import {
  checkPatternHeaderBytes,
  MAX_PATTERN_HEADER_BYTES,
  PATTERN_DIGEST_BYTES,
  PATTERN_FIXED_BYTES,
  PATTERN_SALT_BYTES,
  PATTERN_VERSION_CBCS_ES,
  PATTERN_VERSION_ES,
} from "./pattern-header.ts";
import { PatternRangeTable } from "./pattern-range-table.ts";
import { decodeScheme, encodeScheme } from "./pattern-scheme.ts";
import { type EncodedRuns, type HeldRuns, RunWindow } from "./run-window.ts";
import { TableVarintReader } from "./table-varint-reader.ts";
import { varintBytes, writeVarint } from "./write-varint.ts";

// Layout: version 1's fixed 88 bytes (docs/split-format.md), with version 3 at byte 8 and scheme slice-block (4)
// only, or version 4 and scheme cbcs (5) only; the flags at 14 are 0, but for version 4 bit 0 (NO_TAIL_FLAG)
// says the slices' last blocks are not encrypted apart (cbcs `tail: false`); the range count at 76 counts
// slices and the encrypted bytes at 80 are those the walk encrypts; then
//
//   88   N × (gap varint, length varint): slice data spans in ES offsets; gap from the previous span's end
//   …    run count M varint, then M × 5 varints: ES gap (from the previous run's ES end), ES bytes per unit L,
//        body gap (from the previous run's body end), stride − L, unit count C; a run's ES end is its ES
//        offset + L·C, its body end its body offset + stride·(C − 1) + L
//   H−32 SHA-256 of bytes [0, H − 32)
//
// Version 3: the encrypted bytes are the first crypt blocks of every crypt + skip from each span's first byte,
// moved to the body through the runs (codec/pattern/es-pattern-plan.ts). Version 4: the spans are every coded
// slice's data, and the blocks those of cbcsSliceBlocks() (codec/pattern/cbcs-es-walk.ts), a block with a byte
// no run carries dropped whole. The ciphers check the count at the end.

/** Version 4, byte 14 bit 0: no tail block per slice (the cbcs scheme's `tail: false`). */
const NO_TAIL_FLAG = 1;

/** What a version 3 header is made from. */
export interface PatternHeaderV3Fields {
  plan: EsPatternPlan;
  salt: Uint8Array;
  originalSha256: Uint8Array;
  directBodyLength: number;
}

/**
 * What a version 3 header says. `R`: the runs as a Float64Array (the default), or as the header's run varints
 * (decodePatternHeaderV3(bytes, { runs: "encoded" }): a receiver's walk reads them a window at a time instead of
 * holding 40 bytes a run, issue 14).
 */
export interface PatternHeaderV3<R extends Float64Array | EncodedRuns = Float64Array> {
  plan: Omit<EsPatternPlan, "runs"> & { runs: R };
  salt: Uint8Array;
  originalSha256: Uint8Array;
  directBodyLength: number;
  headerLength: number;
}

function fail(code: string, message: string, offset: number): never {
  throw codecError(code, `Cannot read pattern header: ${message}`, offset);
}

/** Where the last run ends in the body (0 for none): what the direct body must reach. */
export function runsBodyEnd(plan: Pick<EsPatternPlan, "runs" | "runCount">): number {
  if (plan.runCount === 0) return 0;
  // A stored plan reads its last block back (RunWindow goes to it directly).
  const window = RunWindow.over(plan.runs, plan.runCount);
  const at = window.at(plan.runCount - 1);
  const r = window.rows;
  return r[at + 2]! + r[at + 3]! * (r[at + 4]! - 1) + r[at + 1]!;
}

/**
 * Writes the runs as header varints (run count first) into `out` at `at`, or with no `out` only counts their
 * bytes; returns the end. Throws ERR_PATTERN_RUNS on runs out of order or not sizes. Counted first and then
 * written into the header itself: an array of the largest size (45 bytes a run, 710 KiB for a 32 MiB TS of
 * 320x240 H.264, 16 k runs) made twice per plan had been fresh pages, ~350 page faults of the plan phase.
 */
function writeRuns(
  plan: EsPatternPlan,
  out: Uint8Array | undefined,
  from: number,
  flush?: (at: number) => number,
): number {
  let at = out === undefined ? from + varintBytes(plan.runCount) : writeVarint(out, from, plan.runCount);
  let esEnd = 0;
  let bodyEnd = 0;
  // A forward cursor: a sender's stored runs come back a block at a time (issue 14).
  const window = RunWindow.over(plan.runs, plan.runCount);
  const r = window.rows;
  for (let i = 0; i < plan.runCount; i++) {
    const k = window.at(i);
    const es = r[k]!;
    const l = r[k + 1]!;
    const body = r[k + 2]!;
    const stride = r[k + 3]!;
    const count = r[k + 4]!;
    // Values in the order the header has them; no array per run (a TS has ~27 k runs per 279 MiB).
    if (
      !(l >= 1 && count >= 1) ||
      !isSize(es - esEnd) ||
      !isSize(l) ||
      !isSize(body - bodyEnd) ||
      !isSize(stride - l) ||
      !isSize(count)
    )
      fail("ERR_PATTERN_RUNS", `run ${i} is out of order or not made of sizes`, PATTERN_FIXED_BYTES);
    // A run is at most five 8-byte varints: `flush` empties `out` (a window of the header) before one may not fit.
    if (flush !== undefined && out !== undefined && at + RUN_FIELDS * 8 > out.length) at = flush(at);
    if (out === undefined) {
      at +=
        varintBytes(es - esEnd) +
        varintBytes(l) +
        varintBytes(body - bodyEnd) +
        varintBytes(stride - l) +
        varintBytes(count);
    } else {
      at = writeVarint(out, at, es - esEnd);
      at = writeVarint(out, at, l);
      at = writeVarint(out, at, body - bodyEnd);
      at = writeVarint(out, at, stride - l);
      at = writeVarint(out, at, count);
    }
    esEnd = es + l * count;
    bodyEnd = body + stride * (count - 1) + l;
  }
  return at;
}

function isSize(v: number): boolean {
  return Number.isSafeInteger(v) && v >= 0;
}

/** The length of the header encodePatternHeaderV3() makes for this plan (it depends on nothing else). */
export function patternHeaderV3Length(plan: EsPatternPlan): number {
  return (
    PATTERN_FIXED_BYTES + plan.slices.encodedBytes + writeRuns(plan, undefined, 0) + PATTERN_DIGEST_BYTES
  );
}

/** Encodes a version 3 pattern header. Throws ERR_PATTERN_* CodecErrors on fields it could not decode back. */
export function encodePatternHeaderV3(h: PatternHeaderV3Fields): Uint8Array {
  const { length, head } = headV3(h);
  const out = new Uint8Array(length);
  out.set(head);
  const at = writeRuns(h.plan, out, h.plan.slices.copyEncoded(out, PATTERN_FIXED_BYTES));
  out.set(createHash("sha256").update(out.subarray(0, at)).digest(), at);
  return out;
}

/** Bytes of a window writeSpilledPatternHeaderV3() hands on the runs in. */
const RUN_WINDOW_BYTES = 64 * 1024;

/**
 * The header encodePatternHeaderV3() makes, handed to `write` a piece at a time (the fixed head, each block of
 * the slices, 64 KiB windows of the runs) and with 32 zero bytes for its digest, which the caller writes as it
 * sends (its binding comes later, codec/pattern/pattern-direct-encoder.ts): a sender with a 15.3 MB header
 * (4.38 GB of TS) keeps it in a file, not in memory (issue 14). `write` must copy what it keeps. Returns the
 * fixed head (its own 88 bytes) and the header's length; throws as encodePatternHeaderV3() does, before any write.
 */
export function writeSpilledPatternHeaderV3(
  h: PatternHeaderV3Fields,
  write: (bytes: Uint8Array) => void,
): { head: Uint8Array; length: number } {
  const { length, head } = headV3(h);
  write(head);
  h.plan.slices.forEachEncoded(write);
  const window = new Uint8Array(RUN_WINDOW_BYTES);
  const at = writeRuns(h.plan, window, 0, (filled) => {
    write(window.subarray(0, filled));
    return 0;
  });
  write(window.subarray(0, at));
  write(new Uint8Array(PATTERN_DIGEST_BYTES));
  return { head, length };
}

/** Checks a version 3 header's fields and writes its fixed head; the header's length. */
function headV3(h: PatternHeaderV3Fields): { length: number; head: Uint8Array } {
  const { plan } = h;
  const sc = encodeScheme(plan.scheme);
  if (h.salt.length !== PATTERN_SALT_BYTES)
    fail("ERR_PATTERN_SALT", `salt is ${h.salt.length} bytes, not 16`, 20);
  if (h.originalSha256.length !== 32) fail("ERR_PATTERN_HASH", "original hash is not 32 bytes", 36);
  if (!Number.isSafeInteger(h.directBodyLength) || h.directBodyLength < 0)
    fail("ERR_PATTERN_LENGTH", `direct body length ${h.directBodyLength} is not a size`, 68);
  const runBytes = writeRuns(plan, undefined, 0);
  if (runsBodyEnd(plan) > h.directBodyLength)
    fail("ERR_PATTERN_RUNS", `the runs end past the ${h.directBodyLength}-byte body`, PATTERN_FIXED_BYTES);
  if (plan.encryptedBytes > h.directBodyLength)
    fail("ERR_PATTERN_LENGTH", `${plan.encryptedBytes} encrypted bytes exceed the body`, 80);
  const length = PATTERN_FIXED_BYTES + plan.slices.encodedBytes + runBytes + PATTERN_DIGEST_BYTES;
  if (length > MAX_PATTERN_HEADER_BYTES)
    fail("ERR_PATTERN_HEADER_LENGTH", `${plan.slices.count} slices need ${length} bytes, over the limit`, 16);
  const out = new Uint8Array(PATTERN_FIXED_BYTES);
  writePatternFixedHead(out, {
    version: plan.scheme.kind === "cbcs" ? PATTERN_VERSION_CBCS_ES : PATTERN_VERSION_ES,
    scheme: sc,
    flags: plan.scheme.kind === "cbcs" && plan.scheme.tail === false ? NO_TAIL_FLAG : 0,
    length,
    salt: h.salt,
    originalSha256: h.originalSha256,
    directBodyLength: h.directBodyLength,
    rangeCount: plan.slices.count,
    rangeBytes: plan.encryptedBytes,
  });
  return { length, head: out };
}

/**
 * The run varints of a header encodePatternHeaderV3() made for `plan` (its bytes after the run count, up to the
 * digest), copied out: the sender's walk reads them a window at a time as the receiver's does (RunWindow.encoded),
 * so the plan's Float64Array of runs (40 bytes a run, 16 MB at 4.4 GB of TS) can go once the header holds them,
 * and the header itself once sent (the runs are a sixth of it: 172 KB of 1.02 MB for bench.ts; the slices the rest). Issue 14.
 */
export function encodedRunsOfHeaderV3(
  header: Uint8Array,
  plan: Pick<EsPatternPlan, "slices" | "runCount">,
): HeldRuns {
  const from = runVarintsAtV3(plan);
  const to = header.length - PATTERN_DIGEST_BYTES;
  if (from > to)
    throw new RangeError(`Cannot read the runs: the header ends at ${header.length}, before them`);
  return { bytes: header.slice(from, to), count: plan.runCount };
}

/** Where a version 3/4 header made for `plan` has its first run's varints: after the head, the slices and the run count. */
export function runVarintsAtV3(plan: Pick<EsPatternPlan, "slices" | "runCount">): number {
  return PATTERN_FIXED_BYTES + plan.slices.encodedBytes + varintBytes(plan.runCount);
}

/**
 * Decodes a whole version 3 pattern header (exactly its bytes). Throws ERR_PATTERN_* CodecErrors, digest first.
 * The slices are a view of `bytes` (PatternRangeTable.fromEncoded): the caller must not change them afterwards.
 * `{ runs: "encoded" }`: every run is checked the same, but the plan's runs stay a view of the header's varints.
 */
export function decodePatternHeaderV3(bytes: Uint8Array): PatternHeaderV3;
export function decodePatternHeaderV3(bytes: Uint8Array, o: { runs: "encoded" }): PatternHeaderV3<HeldRuns>;
export function decodePatternHeaderV3(
  bytes: Uint8Array,
  o: { runs?: "encoded" } = {},
): PatternHeaderV3 | PatternHeaderV3<HeldRuns> {
  const digestAt = checkPatternHeaderBytes(bytes);
  const length = digestAt + PATTERN_DIGEST_BYTES;
  const head = readPatternHeadV3(bytes, digestAt);
  const { directBodyLength, count } = head;
  const held: { runs?: Float64Array } = {};
  const table = walkPatternTableV3(new TableVarintReader(bytes, PATTERN_FIXED_BYTES, digestAt), {
    count,
    digestAt,
    directBodyLength,
    ...(o.runs === "encoded"
      ? {}
      : { runsFor: (m: number) => (held.runs = new Float64Array(RUN_FIELDS * m)) }),
  });
  const { runsAt, runsFrom, runCount: m } = table;
  const scheme = head.scheme;
  const total = head.encryptedBytes;
  // The slices stay as these bytes hold them (checked above), not decoded into a second copy.
  const slices = PatternRangeTable.fromEncoded(bytes.subarray(PATTERN_FIXED_BYTES, runsAt), count);
  const fields = {
    salt: bytes.slice(20, 36),
    originalSha256: bytes.slice(36, 68),
    directBodyLength,
    headerLength: length,
  };
  const plan = { scheme, slices, runCount: m, encryptedBytes: total };
  const runs = held.runs;
  if (runs !== undefined) return { plan: { ...plan, runs }, ...fields };
  return { plan: { ...plan, runs: { bytes: bytes.subarray(runsFrom, digestAt), count: m } }, ...fields };
}

/** The fixed fields of a version 3/4 header (its first 88 bytes, of a header whose digest ends at `digestAt`), checked. */
export function readPatternHeadV3(
  head: Uint8Array,
  digestAt: number,
): { scheme: EsPatternPlan["scheme"]; directBodyLength: number; count: number; encryptedBytes: number } {
  const v = new DataView(head.buffer, head.byteOffset, head.byteLength);
  const version = v.getUint8(8);
  if (version !== PATTERN_VERSION_ES && version !== PATTERN_VERSION_CBCS_ES)
    fail("ERR_PATTERN_VERSION", `version ${version} is not 3 or 4`, 8);
  const cbcs = version === PATTERN_VERSION_CBCS_ES;
  const decoded = decodeScheme(v.getUint8(9), v.getUint16(10), v.getUint16(12));
  const wanted = cbcs ? "cbcs" : "slice-block";
  if (decoded === undefined || decoded.kind !== wanted)
    fail(
      "ERR_PATTERN_SCHEME",
      `scheme ${v.getUint8(9)} is not ${wanted}, the only one version ${version} carries`,
      9,
    );
  const flags = v.getUint16(14);
  if (flags !== 0 && !(cbcs && flags === NO_TAIL_FLAG))
    fail("ERR_PATTERN_FLAGS", `flags ${flags} are not defined for version ${version}`, 14);
  const scheme: EsPatternPlan["scheme"] =
    decoded.kind === "cbcs" && flags === NO_TAIL_FLAG ? { ...decoded, tail: false } : decoded;
  const body = v.getBigUint64(68);
  const total = v.getBigUint64(80);
  if (body > BigInt(Number.MAX_SAFE_INTEGER) || total > body)
    fail("ERR_PATTERN_LENGTH", `lengths ${body}/${total} are not sizes`, 68);
  const count = v.getUint32(76);
  if (count * 2 > digestAt - PATTERN_FIXED_BYTES)
    fail("ERR_PATTERN_RANGES", `${count} slices cannot fit the table`, 76);
  return { scheme, directBodyLength: Number(body), count, encryptedBytes: Number(total) };
}

/**
 * Reads and checks a version 3/4 table from its first byte to the digest: `count` slices, then the runs.
 * `onSlice(rowStart, rowEnd, endBefore)`: each slice row's header offsets and the ES end before it (a spilled
 * header's block cuts). `runsFor(m)`: an array for the runs, filled as they are read; without it they are only
 * checked. Returns where the runs (their count varint, and their first run) begin, and the last slice's ES end.
 */
export function walkPatternTableV3(
  table: { next(): number; at: number },
  o: {
    count: number;
    digestAt: number;
    directBodyLength: number;
    onSlice?: (rowStart: number, rowEnd: number, endBefore: number) => void;
    runsFor?: (m: number) => Float64Array;
  },
): { runsAt: number; runsFrom: number; runCount: number; slicesEnd: number } {
  const { count, digestAt, directBodyLength } = o;
  let esEnd = 0;
  for (let i = 0; i < count; i++) {
    const rowStart = table.at;
    const offset = esEnd + table.next();
    const len = table.next();
    if (len < 1 || !Number.isSafeInteger(offset + len))
      fail("ERR_PATTERN_RANGES", `slice ${i} (${offset}+${len}) is empty or not a size`, table.at);
    o.onSlice?.(rowStart, table.at, esEnd);
    esEnd = offset + len;
  }
  const runsAt = table.at;
  const m = table.next();
  // Each run takes at least five table bytes: a count beyond that is a lie before any run is read.
  if (m * RUN_FIELDS > digestAt - table.at)
    fail("ERR_PATTERN_RUNS", `${m} runs cannot fit the table`, runsAt);
  const runsFrom = table.at;
  const runs = o.runsFor?.(m);
  let runEsEnd = 0;
  let bodyEnd = 0;
  for (let i = 0; i < m; i++) {
    const es = runEsEnd + table.next();
    const l = table.next();
    const runBody = bodyEnd + table.next();
    const stride = l + table.next();
    const c = table.next();
    const end = runBody + stride * (c - 1) + l;
    if (
      l < 1 ||
      c < 1 ||
      !Number.isSafeInteger(es + l * c) ||
      !Number.isSafeInteger(end) ||
      end > directBodyLength
    )
      fail("ERR_PATTERN_RUNS", `run ${i} is empty or ends past the ${directBodyLength}-byte body`, table.at);
    if (runs !== undefined) {
      const k = RUN_FIELDS * i;
      runs[k] = es;
      runs[k + 1] = l;
      runs[k + 2] = runBody;
      runs[k + 3] = stride;
      runs[k + 4] = c;
    }
    runEsEnd = es + l * c;
    bodyEnd = end;
  }
  if (table.at !== digestAt)
    fail("ERR_PATTERN_RUNS", `${digestAt - table.at} bytes follow the run table`, table.at);
  return { runsAt, runsFrom, runCount: m, slicesEnd: esEnd };
}
