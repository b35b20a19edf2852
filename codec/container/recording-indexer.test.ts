import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { esFixtureNames, loadEsFixture } from "../../test/support/es-fixtures.ts";
import { indexInChunks } from "../../test/support/index-in-chunks.ts";
import { prng } from "../../test/support/synthetic-container-streams.ts";
import type { ByteRange, ContainerKind, RecordingIndex, VideoFormat } from "../recording-index.ts";
import type { DemuxSink } from "./demux-sink.ts";
import { indexRecording } from "./index-recording.ts";
import { PsDemuxer } from "./ps-demuxer.ts";
import { RecordingIndexer } from "./recording-indexer.ts";
import { TsDemuxer } from "./ts-demuxer.ts";

const dir = join(import.meta.dir, "../../testdata/containers");
const fixture = (name: string) => new Uint8Array(readFileSync(join(dir, name)));
const ffprobeTypes = (name: string): string[] =>
  JSON.parse(readFileSync(join(dir, `${name}.types.json`), "utf8")).decodeOrderTypes;

const FIXTURES: [string, ContainerKind, VideoFormat][] = [
  ["ps-mpeg2.mpg", "ps", "mpeg2"],
  ["ps-dvd.vob", "ps", "mpeg2"],
  ["ps-mpeg1.mpg", "ps", "mpeg1"],
  ["ts-mpeg2.ts", "ts", "mpeg2"],
  ["m2ts-mpeg2.m2ts", "m2ts", "mpeg2"],
  ["ts-h264.ts", "ts", "h264"],
  ["mp4-h264.mp4", "mp4", "h264"],
  ["mp4-h264-faststart.mp4", "mp4", "h264"],
];

/** ES offset -> file position pieces, from the demuxer itself, with the carrying unit of each piece. */
function esMap(file: Uint8Array, kind: ContainerKind) {
  const pieces: { es: number; length: number; file: number; unit: ByteRange }[] = [];
  let es = 0;
  const sink: DemuxSink = {
    video: (_bytes, start, end, fileOffset, unitOffset, unitLength) => {
      pieces.push({
        es,
        length: end - start,
        file: fileOffset,
        unit: { offset: unitOffset, length: unitLength },
      });
      es += end - start;
    },
    error: () => {},
    format: () => {},
  };
  const d = kind === "ps" ? new PsDemuxer(sink) : new TsDemuxer(sink, kind === "m2ts" ? 192 : 188);
  d.push(file);
  d.end();
  return pieces;
}

/**
 * The first file byte of an I-picture that no protected range covers, or -1: the invariant split/merge rely on.
 * ES and MP4 picture offsets are file offsets (MP4 samples may reach past a truncated file's end); PS/TS ones go
 * through an independent demux of the same bytes.
 */
function firstUnprotectedIByte(file: Uint8Array, index: RecordingIndex): number {
  const spans: ByteRange[] = [];
  const iPictures = index.pictures.filter((p) => p.type === "I" && p.length > 0);
  if (index.container === "es" || index.container === "mp4") {
    for (const p of iPictures)
      spans.push({ offset: p.offset, length: Math.min(p.offset + p.length, file.length) - p.offset });
  } else {
    const pieces = esMap(file, index.container);
    let k = 0;
    for (const p of iPictures) {
      const end = p.offset + p.length;
      while (k > 0 && pieces[k - 1]!.es + pieces[k - 1]!.length > p.offset) k--;
      for (; k < pieces.length && pieces[k]!.es < end; k++) {
        const piece = pieces[k]!;
        const from = Math.max(p.offset, piece.es);
        const to = Math.min(end, piece.es + piece.length);
        if (to > from) spans.push({ offset: piece.file + (from - piece.es), length: to - from });
        if (piece.es + piece.length > end) break;
      }
    }
  }
  for (const s of spans)
    if (s.length > 0 && !inside(index.protectedRanges, s.offset, s.length)) return s.offset;
  return -1;
}

function inside(ranges: ByteRange[], offset: number, length: number): boolean {
  return ranges.some((r) => offset >= r.offset && offset + length <= r.offset + r.length);
}

function expectWellFormed(ranges: ByteRange[], fileLength: number): void {
  for (let i = 0; i < ranges.length; i++) {
    const r = ranges[i]!;
    expect(r.length).toBeGreaterThan(0);
    expect(r.offset).toBeGreaterThanOrEqual(0);
    expect(r.offset + r.length).toBeLessThanOrEqual(fileLength);
    if (i > 0) expect(r.offset).toBeGreaterThan(ranges[i - 1]!.offset + ranges[i - 1]!.length);
  }
}

describe("RecordingIndexer", () => {
  for (const [name, container, format] of FIXTURES) {
    test(`RecordingIndexer agrees with ffprobe picture by picture on ${name}`, () => {
      const result = indexRecording(fixture(name));
      expect(result).toMatchObject({ container, format, width: 176, height: 144, errors: [] });
      expect(result.pictures.map((p): string => p.type)).toEqual(ffprobeTypes(name));
      expect(result.pictures.map((p) => p.serial)).toEqual(result.pictures.map((_, i) => i));
      expect(result.counts.pic).toBe(result.pictures.length);
    });

    test(`RecordingIndexer gives identical results for random chunk sizes on ${name}`, () => {
      const file = fixture(name);
      const whole = indexRecording(file);
      const random = prng(name.length * 7919);
      for (const max of [3, 200, 5000, 70000]) {
        expect(indexInChunks(file, () => Math.floor(random() * max))).toEqual(whole);
      }
    });
  }

  for (const [name, kind] of FIXTURES.filter(([, k]) => k !== "mp4")) {
    test(`RecordingIndexer protects exactly the ${kind === "ps" ? "PES" : "TS"} packets carrying I-picture bytes of ${name}`, () => {
      const file = fixture(name);
      const result = indexRecording(file);
      const pieces = esMap(file, kind);
      const expected: ByteRange[] = [];
      for (const p of result.pictures.filter((q) => q.type === "I")) {
        const end = p.offset + p.length;
        let covered = 0;
        for (const piece of pieces) {
          const from = Math.max(p.offset, piece.es);
          const to = Math.min(end, piece.es + piece.length);
          if (to <= from) continue;
          covered += to - from;
          // Every byte of the I-picture, at its file position, lies inside protectedRanges.
          expect(inside(result.protectedRanges, piece.file + (from - piece.es), to - from)).toBe(true);
          const last = expected[expected.length - 1];
          if (!last || last.offset !== piece.unit.offset) expected.push({ ...piece.unit });
        }
        expect(covered).toBe(p.length);
      }
      // ...and nothing but the units that carry them (coalesced).
      const coalesced: ByteRange[] = [];
      for (const u of expected.sort((a, b) => a.offset - b.offset)) {
        const last = coalesced[coalesced.length - 1];
        if (last && u.offset <= last.offset + last.length)
          last.length = Math.max(last.length, u.offset + u.length - last.offset);
        else coalesced.push({ ...u });
      }
      expect(result.protectedRanges).toEqual(coalesced);
      expectWellFormed(result.protectedRanges, file.length);
    });
  }

  test("RecordingIndexer protects the exact I-picture bytes of an elementary stream", () => {
    const file = new Uint8Array(readFileSync(join(import.meta.dir, "../../testdata/es/mpeg2-gop12.m2v")));
    const result = indexRecording(file);
    expect(result.container).toBe("es");
    const iRanges = result.pictures
      .filter((p) => p.type === "I")
      .map((p) => ({ offset: p.offset, length: p.length }));
    expect(iRanges.length).toBeGreaterThan(0);
    expect(result.protectedRanges).toEqual(iRanges);
  });

  test("RecordingIndexer lists TS errors with file offsets and keeps going after damage", () => {
    const file = fixture("ts-mpeg2.ts").slice();
    file.fill(0x00, 188 * 100 + 10, 188 * 103); // wipe sync bytes of three packets
    const result = indexRecording(file);
    const sync = result.errors.find((e) => e.code === "ERR_TS_SYNC");
    expect(sync?.offset).toBe(188 * 101);
    expect(result.pictures.length).toBeGreaterThan(30);
    expectWellFormed(result.protectedRanges, file.length);
  });

  for (const [name, bound] of [
    ["ts-mpeg2.ts", 1000],
    ["ps-dvd.vob", 100],
  ] as const) {
    test(`RecordingIndexer holds a bounded number of packet records while streaming a long ${name}`, () => {
      const one = fixture(name);
      const indexer = new RecordingIndexer();
      let most = 0;
      const chunk = 50_000;
      const copies = 30;
      for (let c = 0; c < copies; c++) {
        for (let i = 0; i < one.length; i += chunk) {
          indexer.push(one.subarray(i, i + chunk));
          most = Math.max(most, indexer.heldUnitRecords);
        }
      }
      indexer.finish();
      // 30 copies carry ~25k TS packets (~2k PES packets) of video; only the open picture's are held.
      expect(most).toBeGreaterThan(0);
      expect(most).toBeLessThan(bound);
      expect(indexer.result().pictures.length).toBeGreaterThan(30 * 30);
    });
  }

  test("RecordingIndexer survives empty input and tiny inputs", () => {
    expect(indexRecording(new Uint8Array(0))).toMatchObject({
      container: "es",
      pictures: [],
      protectedRanges: [],
    });
    for (let n = 1; n < 40; n++) {
      const r = indexRecording(fixture("ps-dvd.vob").subarray(0, n));
      expect(r.pictures).toEqual([]);
    }
  });

  test("RecordingIndexer survives thousands of mutated, truncated and shifted recordings, every I-picture byte protected", () => {
    const files = FIXTURES.map(([name]) => fixture(name));
    const random = prng(20261122);
    const int = (n: number) => Math.floor(random() * n);
    const RUNS = 3000;
    for (let run = 0; run < RUNS; run++) {
      const source = files[run % files.length]!;
      // Mostly a window of the recording (keeps the run fast), sometimes all of it.
      const start = int(4) === 0 ? 0 : int(source.length);
      const length = int(5) === 0 ? source.length : 1 + int(40000);
      const input = source.slice(start, Math.min(source.length, start + length));
      const edits = int(30);
      for (let e = 0; e < edits; e++) {
        const at = int(input.length);
        const kind = int(4);
        if (kind === 0) input[at] = int(256);
        else if (kind === 1) input.fill(0, at, at + int(400));
        else if (kind === 2) input.fill(0xff, at, at + int(50));
        else input.copyWithin(at, int(input.length), int(input.length));
      }
      let result: RecordingIndex | undefined;
      try {
        result = indexInChunks(input, () => 1 + int(int(2) ? 20000 : 300));
      } catch (e) {
        throw new Error(`run ${run} (source ${run % files.length}, start ${start}) threw: ${e}`);
      }
      expectWellFormed(result.protectedRanges, input.length);
      expect([run, firstUnprotectedIByte(input, result)]).toEqual([run, -1]);
      for (const p of result.pictures) {
        expect(p.offset).toBeGreaterThanOrEqual(0);
        expect(p.length).toBeGreaterThanOrEqual(0);
      }
      for (const e of result.errors) expect(Number.isFinite(e.offset)).toBe(true);
    }
  });

  test("RecordingIndexer agrees with a live ffprobe run on the VOB", async () => {
    const path = join(dir, "ps-dvd.vob");
    const proc = Bun.spawn(
      [
        "ffprobe",
        "-v",
        "error",
        "-select_streams",
        "v:0",
        "-show_entries",
        "frame=coded_picture_number,pict_type",
        "-of",
        "csv=p=0",
        path,
      ],
      { stdout: "pipe", stderr: "pipe" },
    );
    const text = await new Response(proc.stdout).text();
    expect(await proc.exited).toBe(0);
    const rows = text
      .split("\n")
      .map((l) => l.split(","))
      .filter((f) => /^[A-Z?]$/.test(f[0] ?? "") && /^\d+$/.test(f[1] ?? ""))
      .sort((a, b) => Number(a[1]) - Number(b[1]));
    expect(rows.length).toBe(36);
    expect(indexRecording(fixture("ps-dvd.vob")).pictures.map((p): string => p.type)).toEqual(
      rows.map((r) => r[0]!),
    );
  });
});

describe("RecordingIndexer with retainPictures: false", () => {
  const MPEG: [string, () => Uint8Array][] = [
    ...FIXTURES.filter(([, , f]) => f !== "h264").map(
      ([n]) => [n, () => fixture(n)] as [string, () => Uint8Array],
    ),
    ...esFixtureNames().map((n) => [n, () => loadEsFixture(n)] as [string, () => Uint8Array]),
  ];
  for (const [name, load] of MPEG) {
    test(`RecordingIndexer with retainPictures: false gives the same ranges, counts and errors on ${name}`, () => {
      const file = load();
      const whole = indexRecording(file);
      const random = prng(name.length * 104729);
      for (const max of [200, 70000]) {
        const lean = indexInChunks(file, () => Math.floor(random() * max), { retainPictures: false });
        const { pictures, gops, ...rest } = whole;
        expect(lean).toEqual({ ...rest, pictures: [], gops: [] });
        expect(lean.counts.pic).toBe(pictures.length);
        expect(lean.counts.gop).toBe(gops.length);
      }
    });
  }

  test("RecordingIndexer with retainPictures: false keeps errors (and the serials they name) on damaged streams", () => {
    const random = prng(20261206);
    const int = (n: number) => Math.floor(random() * n);
    for (let run = 0; run < 200; run++) {
      const [, load] = MPEG[run % MPEG.length]!;
      const input = load().slice();
      for (let e = 0; e < 1 + int(20); e++) input[int(input.length)] = int(256);
      const chunk = () => 1 + int(5000);
      const kept = indexInChunks(input, chunk);
      const lean = indexInChunks(input, chunk, { retainPictures: false });
      expect([run, lean.errors, lean.protectedRanges, lean.counts]).toEqual([
        run,
        kept.errors,
        kept.protectedRanges,
        kept.counts,
      ]);
    }
  });

  test("RecordingIndexer with retainPictures: false holds a bounded number of pictures however long the stream", () => {
    const seed = loadEsFixture("mpeg2-gop12.m2v");
    const indexer = new RecordingIndexer({ retainPictures: false });
    let most = 0;
    for (let copy = 0; copy < 200; copy++) {
      for (let at = 0; at < seed.length; at += 4096) indexer.push(seed.subarray(at, at + 4096));
      most = Math.max(most, indexer.pictures.length);
    }
    const r = indexer.result();
    expect(r.counts.pic).toBe(200 * indexRecording(seed).counts.pic);
    expect(r.pictures).toEqual([]);
    expect(most).toBeLessThanOrEqual(2);
  });

  test("RecordingIndexer keeps its pictures when asked for details, whatever retainPictures says", () => {
    const file = fixture("ps-mpeg2.mpg");
    const r = indexInChunks(file, () => 3000, { retainPictures: false, details: true });
    expect(r.pictures.length).toBe(indexRecording(file).pictures.length);
  });
});
