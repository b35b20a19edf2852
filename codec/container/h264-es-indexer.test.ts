import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { expectCodecError } from "../../test/support/expect-codec-error.ts";
import { concat, prng } from "../../test/support/synthetic-container-streams.ts";
import { x264Testsrc } from "../../test/support/x264-testsrc.ts";
import { H264EsIndexer } from "./h264-es-indexer.ts";
import { parseH264Sps } from "./h264-sps.ts";
import { TsDemuxer } from "./ts-demuxer.ts";

/** The H.264 elementary stream of the TS fixture, demuxed by our TsDemuxer. */
function fixtureEs(): Uint8Array {
  const file = new Uint8Array(readFileSync(join(import.meta.dir, "../../testdata/containers/ts-h264.ts")));
  const parts: Uint8Array[] = [];
  const d = new TsDemuxer({
    video: (b, start, end) => parts.push(b.slice(start, end)),
    error: () => {},
    format: () => {},
  });
  d.push(file);
  d.end();
  return concat(...parts);
}

function run(es: Uint8Array, sizes: () => number = () => es.length): H264EsIndexer {
  const x = new H264EsIndexer();
  for (let i = 0; i < es.length; ) {
    const n = Math.max(1, sizes());
    x.push(es.subarray(i, i + n));
    i += n;
  }
  x.end();
  return x;
}

const es = fixtureEs();
const FFMPEG = Bun.which("ffmpeg");
if (!FFMPEG) console.warn("\n*** SKIPPING the mid-stream parameter set test: ffmpeg is not installed ***\n");
/** Stands in a case's parts for the stream ffmpeg makes when the tests run. */
const OTHER = new Uint8Array(0);
const types = JSON.parse(
  readFileSync(join(import.meta.dir, "../../testdata/containers/ts-h264.ts.types.json"), "utf8"),
).decodeOrderTypes;

describe("H264EsIndexer", () => {
  test("H264EsIndexer finds ffprobe's access units and types, tiling the stream", () => {
    const x = run(es);
    expect(x.errors).toEqual([]);
    expect(x.pictures.map((p): string => p.type)).toEqual(types);
    expect([x.width, x.height, x.counts.seq, x.counts.gop]).toEqual([176, 144, 3, 3]); // x264 repeats SPS/PPS at each IDR in a TS
    expect(x.pictures[0]!.offset).toBe(0);
    for (let i = 1; i < x.pictures.length; i++) {
      const prev = x.pictures[i - 1]!;
      expect(x.pictures[i]!.offset).toBe(prev.offset + prev.length);
      // Every access unit opens with a start code.
      const at = x.pictures[i]!.offset;
      expect([...es.subarray(at, at + 3)].join()).toMatch(/^0,0,(1|0)$/);
    }
    const last = x.pictures[x.pictures.length - 1]!;
    expect(last.offset + last.length).toBe(es.length);
    expect(x.gops.map((g) => g.closed)).toEqual([true, true, true]);
  });

  test("H264EsIndexer gives the same index for every chunking, start codes split included", () => {
    const whole = run(es);
    const random = prng(42);
    for (const max of [2, 3, 5, 64, 4000]) {
      const x = run(es, () => Math.floor(random() * max));
      expect(x.pictures).toEqual(whole.pictures);
      expect(x.gops).toEqual(whole.gops);
      expect(x.errors).toEqual(whole.errors);
    }
  });

  test("H264EsIndexer reports a forbidden_zero_bit and an unreadable slice, and goes on", () => {
    const bad = concat(new Uint8Array([0, 0, 0, 1, 0x85, 0x12, 0, 0, 1, 0x41]), es);
    const x = run(bad);
    expect(x.errors.map((e) => [e.code, e.offset])).toEqual([
      ["ERR_H264_NAL", 0],
      ["ERR_H264_SLICE", 6],
    ]);
    expect(x.pictures.map((p): string => p.type)).toEqual(types);
  });

  test("H264EsIndexer never throws on random bytes and keeps settledOffset monotonic", () => {
    const random = prng(7);
    const junk = Uint8Array.from({ length: 50000 }, () =>
      random() < 0.1 ? 0 : random() < 0.05 ? 1 : Math.floor(random() * 256),
    );
    const x = new H264EsIndexer();
    let settled = 0;
    for (let i = 0; i < junk.length; i += 999) {
      x.push(junk.subarray(i, i + 999));
      expect(x.settledOffset).toBeGreaterThanOrEqual(settled);
      settled = x.settledOffset;
    }
    x.end();
    expect(x.settledOffset).toBe(junk.length);
  });
});

describe("parseH264Sps()", () => {
  const spsAt = es.findIndex(
    (_, i) => es[i] === 0 && es[i + 1] === 0 && es[i + 2] === 1 && (es[i + 3]! & 0x1f) === 7,
  );
  const spsEnd = es.indexOf(1, spsAt + 4) - 2;
  const sps = es.subarray(spsAt + 3, spsEnd);
  test("parseH264Sps() reads the fixture's size and slice-header fields", () => {
    expect(parseH264Sps(sps, 0)).toMatchObject({
      width: 176,
      height: 144,
      frameMbsOnly: true,
      picOrderCntType: 0,
    });
  });
  test("parseH264Sps() reads the VUI's sample aspect ratio and timing (x264: 1:1, 25 fps)", () => {
    expect(parseH264Sps(sps, 0).vui).toEqual({ sar: [1, 1], timing: { numUnitsInTick: 1, timeScale: 50 } });
  });
  test("parseH264Sps() gives vui null, never an error, for a VUI cut anywhere", () => {
    let full = 0;
    for (let end = sps.length; end > 4; end--) {
      let parsed: ReturnType<typeof parseH264Sps>;
      try {
        parsed = parseH264Sps(sps.subarray(0, end), 0);
      } catch {
        break; // cut into the SPS's own fields: ERR_H264_SPS, tested below
      }
      expect(parsed.width).toBe(176);
      if (parsed.vui?.timing) full++;
      else expect(parsed.vui === null || parsed.vui.timing === null).toBe(true);
    }
    expect(full).toBeGreaterThan(0);
  });
  test("parseH264Sps() rejects an SPS cut off", () =>
    expectCodecError(() => parseH264Sps(sps.subarray(0, 4), 0), "ERR_H264_SPS"));
  test("parseH264Sps() rejects seq_parameter_set_id above 31", () => {
    // profile 66 (no chroma fields), then ue(v) 32 = 00000100001.
    expectCodecError(
      () => parseH264Sps(new Uint8Array([0x67, 66, 0, 30, 0b00000100, 0b00100000]), 0),
      "ERR_H264_SPS",
    );
  });
});

describe.skipIf(!FFMPEG)("H264EsIndexer parameter sets repeated and changed", () => {
  /** Every slice's (NAL start, data start, NAL end) that an indexer with a slice observer reports for `bytes`. */
  function slices(bytes: Uint8Array, chunk: number): number[][] {
    const out: number[][] = [];
    const x = new H264EsIndexer({ onSlice: (a, b, c) => out.push([a, b, c]) });
    for (let i = 0; i < bytes.length; i += chunk) x.push(bytes.subarray(i, i + chunk));
    x.end();
    expect(x.errors).toEqual([]);
    return out;
  }
  // A second stream of another size and entropy coder (its SPS and PPS differ), made by Debian's ffmpeg.
  const made = FFMPEG
    ? x264Testsrc(FFMPEG, 1, ["-preset", "veryfast", "-coder", "0", "-g", "5", "-f", "h264", "-"])
    : undefined;
  const cases = [
    {
      name: "the fixture, then another stream, then the fixture again",
      parts: [es, OTHER, es],
      size: [176, 144],
    },
    { name: "another stream, then the fixture", parts: [OTHER, es], size: [176, 144] },
    { name: "the fixture, then another stream", parts: [es, OTHER], size: [320, 240] },
  ];
  for (const c of cases)
    test(`H264EsIndexer reads each slice under its own SPS and PPS when they change mid-stream: ${c.name}`, () => {
      expect(made?.exitCode).toBe(0);
      const other: Uint8Array = made?.stdout ?? new Uint8Array(0);
      const parts = c.parts.map((p) => (p === OTHER ? other : p));
      // Each part indexed alone gives the slices' positions; joined, the same positions shifted by the part's start.
      const want: number[][] = [];
      let at = 0;
      for (const p of parts) {
        for (const s of slices(p, 4096)) want.push(s.map((v) => v + at));
        at += p.length;
      }
      const joined = concat(...parts);
      for (const chunk of [188, 4096, joined.length]) expect(slices(joined, chunk)).toEqual(want);
      const x = run(joined);
      expect([x.width, x.height]).toEqual(c.size);
      expect(x.counts.seq).toBe(parts.reduce((n, p) => n + run(p).counts.seq, 0));
    });
});
