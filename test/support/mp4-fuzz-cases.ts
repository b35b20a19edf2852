/** @module For tests: MP4 files with a heavily damaged moov, and the checks each must pass; run as `bun mp4-fuzz-cases.ts FROM TO` under a watchdog. */

import { readFileSync } from "node:fs";
import { join } from "node:path";
import { isDeepStrictEqual } from "node:util";
import { RecordingIndexer } from "../../codec/container/recording-indexer.ts";
import type { ByteRange, RecordingIndex } from "../../codec/recording-index.ts";
import { mergeBytes, splitBytes } from "../../codec/split/split-bytes.ts";
import { serveWatchedCases } from "./fuzz-watchdog.ts";
import { seededInts } from "./seeded-random.ts";

const dir = join(import.meta.dir, "../../testdata/containers");
const FIXTURES = ["mp4-h264.mp4", "mp4-h264-faststart.mp4"].map((name) => ({
  name,
  bytes: new Uint8Array(readFileSync(join(dir, name))),
}));
/** Boxes whose children are boxes, ISO/IEC 14496-12 (stsd's entries and avc1's children start later). */
const CONTAINERS = new Set(["moov", "trak", "mdia", "minf", "stbl", "edts", "dinf", "udta"]);
/** Values that break size and count fields in the most ways: 0, below a header, max, sign bit, near the file. */
const NASTY = [0, 1, 7, 8, 9, 16, 0x7fffffff, 0x80000000, 0xffffffff, 0xfffffffe, 4096, 65536];
const FOURCCS = [
  "moov",
  "trak",
  "mdia",
  "minf",
  "stbl",
  "stsz",
  "stz2",
  "stco",
  "co64",
  "stss",
  "stsc",
  "stts",
  "ctts",
  "mdhd",
  "mvhd",
  "elst",
  "edts",
  "free",
  "vide",
  "soun",
  "avc1",
  "avcC",
  "hdlr",
  "uuid",
];

/** Start offsets of every box inside the moov (and the moov itself), walking only plausible sizes. */
function boxStarts(b: Uint8Array, from: number, to: number, out: number[], depth = 0): void {
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  for (let at = from; at + 8 <= to; ) {
    const size = view.getUint32(at);
    if (size < 8 || at + size > to) return;
    out.push(at);
    const type = String.fromCharCode(...b.subarray(at + 4, at + 8));
    if (CONTAINERS.has(type) && depth < 8) boxStarts(b, at + 8, at + size, out, depth + 1);
    if (type === "stsd" && depth < 8) boxStarts(b, at + 16, at + size, out, depth + 1);
    if (type === "avc1" && depth < 8) boxStarts(b, at + 86, at + size, out, depth + 1);
    at += size;
  }
}

function moovRange(b: Uint8Array): [number, number] {
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  for (let at = 0; at + 8 <= b.length; at += view.getUint32(at)) {
    if (String.fromCharCode(...b.subarray(at + 4, at + 8)) === "moov") return [at, at + view.getUint32(at)];
  }
  throw new Error("fixture has no moov");
}

/** A fixture whose moov took 1 to 4 damages: size/count fields set to NASTY values, fourccs swapped, bytes cut or duplicated. */
export function mp4FuzzInput(seed: number): {
  bytes: Uint8Array;
  source: string;
  rand: (n: number) => number;
} {
  const rand = seededInts(seed);
  const fixture = FIXTURES[rand(FIXTURES.length)]!;
  let b = fixture.bytes.slice();
  const damages = 1 + rand(4);
  for (let d = 0; d < damages; d++) {
    const [moovStart, moovEnd] = moovRange(fixture.bytes);
    const starts: number[] = [];
    boxStarts(b, moovStart, Math.min(moovEnd, b.length), starts);
    const box = starts.length > 0 ? starts[rand(starts.length)]! : moovStart + rand(moovEnd - moovStart);
    const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
    const value = rand(3) === 0 ? rand(2 ** 31) * 2 + rand(2) : NASTY[rand(NASTY.length)]!;
    const field = box + 4 * rand(6);
    // Field writes weigh most: they keep the tree walkable, so the damage reaches mp4box's table parsers.
    switch (rand(11)) {
      case 0: // the box's size field
        if (box + 4 <= b.length) view.setUint32(box, value);
        break;
      case 1:
      case 7:
      case 8: // a count or size field after the header (entry_count, sample_size, sample_count)
        if (field + 8 <= b.length) view.setUint32(field + 4, value);
        break;
      case 2: // another box type
        if (box + 8 <= b.length)
          b.set(
            [...FOURCCS[rand(FOURCCS.length)]!].map((c) => c.charCodeAt(0)),
            box + 4,
          );
        break;
      case 3: // random bytes anywhere in the moov
        for (let i = 0; i < 1 + rand(40); i++) b[moovStart + rand(moovEnd - moovStart)] = rand(256);
        break;
      case 4: {
        // a cut inside the moov: the rest of the file shifts
        const at = box + rand(64);
        b = Uint8Array.from([...b.subarray(0, at), ...b.subarray(Math.min(b.length, at + 1 + rand(200)))]);
        break;
      }
      case 5: {
        // a duplicated stretch: boxes appear twice
        const at = box;
        const len = 1 + rand(300);
        b = Uint8Array.from([
          ...b.subarray(0, at + len),
          ...b.subarray(at, at + len),
          ...b.subarray(at + len),
        ]);
        break;
      }
      case 6:
      case 9: // two fields of a full box at once: stsz's sample_size and sample_count, a count and its first entry
        if (box + 20 <= b.length) {
          view.setUint32(box + 12, NASTY[rand(NASTY.length)]!);
          view.setUint32(box + 16, value);
        }
        break;
      default: // the file ends somewhere after the moov starts
        b = b.slice(0, moovStart + rand(b.length - moovStart));
    }
  }
  return { bytes: b, source: `${fixture.name} (${damages} damages)`, rand };
}

function indexInChunks(bytes: Uint8Array, rand: (n: number) => number): RecordingIndex {
  const indexer = new RecordingIndexer({ details: true });
  for (let at = 0; at < bytes.length; ) {
    const n = 1 + rand(rand(2) ? 100 : 20_000);
    indexer.push(bytes.subarray(at, at + n));
    at += n;
  }
  for (const r of indexer.finish()) indexer.supply(r.offset, bytes.subarray(r.offset, r.offset + r.length));
  return indexer.result();
}

/** The first byte of an I-picture inside the file that no protected range covers, or -1. */
export function firstUnprotectedIByte(index: RecordingIndex, fileLength: number): number {
  const ranges: readonly ByteRange[] = index.protectedRanges;
  for (const p of index.pictures) {
    if (p.type !== "I") continue;
    const end = Math.min(p.offset + p.length, fileLength);
    for (let at = p.offset; at < end; ) {
      const r = ranges.find((x) => x.offset <= at && at < x.offset + x.length);
      if (!r) return at;
      at = r.offset + r.length;
    }
  }
  return -1;
}

/** Inspect's per-picture times: parallel to the pictures, each null or a safe integer, with a usable clock. */
function checkTimes(index: RecordingIndex): string | undefined {
  const d = index.details;
  if (!d) return "no details";
  const n = index.pictures.length;
  if (d.pts.length !== n || d.dts.length !== n || d.pos.length !== n)
    return `${n} pictures but ${d.pts.length} pts, ${d.dts.length} dts, ${d.pos.length} pos`;
  if (d.timeScale !== null && !(Number.isSafeInteger(d.timeScale) && d.timeScale > 0))
    return `timeScale ${d.timeScale}`;
  const bad = [...d.pts, ...d.dts].find((t) => t !== null && !Number.isSafeInteger(t));
  if (bad !== undefined) return `time stamp ${bad}`;
  if (d.timeScale === null && [...d.pts, ...d.dts].some((t) => t !== null))
    return "time stamps without a clock";
  const duration = d.video.duration;
  if (duration !== null && !(Number.isFinite(duration) && duration >= 0)) return `duration ${duration}`;
  return undefined;
}

/** Runs one case; undefined when every property holds, else what failed. */
export function checkMp4Case(seed: number): string | undefined {
  const { bytes, source, rand } = mp4FuzzInput(seed);
  let stage = "index";
  try {
    const whole = new RecordingIndexer({ details: true });
    whole.push(bytes);
    for (const r of whole.finish()) whole.supply(r.offset, bytes.subarray(r.offset, r.offset + r.length));
    const index = whole.result();
    stage = "chunked index";
    if (!isDeepStrictEqual(indexInChunks(bytes, rand), index)) return `${source}: chunked index differs`;
    stage = "ranges";
    let last = 0;
    for (const r of index.protectedRanges) {
      if (!(r.offset >= last && r.length > 0 && r.offset + r.length <= bytes.length)) {
        return `${source}: protected range ${r.offset}+${r.length} is unsorted, empty or outside the file`;
      }
      last = r.offset + r.length + 1;
    }
    for (const p of index.pictures) {
      if (!Number.isSafeInteger(p.offset) || !Number.isSafeInteger(p.length)) {
        return `${source}: picture ${p.serial} has offset ${p.offset} length ${p.length}`;
      }
    }
    stage = "time stamps";
    const timeProblem = checkTimes(index);
    if (timeProblem !== undefined) return `${source}: ${timeProblem}`;
    stage = "I-picture coverage";
    const uncovered = firstUnprotectedIByte(index, bytes.length);
    if (uncovered !== -1) return `${source}: I-picture byte ${uncovered} is not protected`;
    stage = "split + merge";
    const merged = mergeBytes(splitBytes(bytes, index.protectedRanges, index.container)).bytes;
    if (!Buffer.from(merged).equals(bytes)) return `${source}: merge is not byte-identical`;
    return undefined;
  } catch (err) {
    return `${source}: ${stage} threw ${(err as Error).name}: ${(err as Error).message}`;
  }
}

// Run by the fuzz tests as `bun mp4-fuzz-cases.ts FROM TO` under runWatchedCases.
if (import.meta.main) serveWatchedCases(checkMp4Case);
