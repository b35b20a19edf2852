/** @module readTrackTime(): an MP4 track's timescale and edit-list shift from its mvhd, mdhd and elst bodies. */
import { describe, expect, test } from "bun:test";
import { seededInts } from "../../test/support/seeded-random.ts";
import { type BoxBody, readTrackTime, timeScaleOf } from "./mp4-track-time.ts";

/** Big-endian bytes of n in `width` bytes (two's complement for negatives). */
function be(n: number, width: number): number[] {
  const out: number[] = [];
  let v = BigInt.asUintN(width * 8, BigInt(n));
  for (let i = 0; i < width; i++) {
    out.unshift(Number(v & 0xffn));
    v >>= 8n;
  }
  return out;
}

/** An mvhd/mdhd body: version, flags, creation/modification times, timescale, then a duration. */
const header = (version: 0 | 1, scale: number) =>
  version === 0
    ? [0, 0, 0, 0, ...be(0, 8), ...be(scale, 4), ...be(0, 4)]
    : [1, 0, 0, 0, ...be(0, 16), ...be(scale, 4), ...be(0, 8)];

/** An elst body of (segment_duration, media_time) entries, media_rate 1.0. */
function elst(version: 0 | 1, entries: Array<[number, number]>, count = entries.length): number[] {
  const w = version === 0 ? 4 : 8;
  return [
    version,
    0,
    0,
    0,
    ...be(count, 4),
    ...entries.flatMap(([d, t]) => [...be(d, w), ...be(t, w), 0, 1, 0, 0]),
  ];
}

/** Lays the bodies out one after another and names their ranges. */
function layout(parts: { mvhd?: number[]; mdhd?: number[]; elst?: number[] }) {
  const bytes: number[] = [];
  const boxes: Record<string, BoxBody> = {};
  for (const [name, body] of Object.entries(parts)) {
    boxes[name] = { body: bytes.length, end: bytes.length + body.length };
    bytes.push(...body);
  }
  return { b: new Uint8Array(bytes), boxes };
}

describe("readTrackTime()", () => {
  const cases: Array<[string, Parameters<typeof layout>[0], { timeScale: number | null; shift: number }]> = [
    [
      "reads mdhd v0's timescale and no shift without an edit list",
      { mdhd: header(0, 12_800) },
      { timeScale: 12_800, shift: 0 },
    ],
    ["reads mdhd v1's timescale", { mdhd: header(1, 90_000) }, { timeScale: 90_000, shift: 0 }],
    [
      "shifts by minus the first edit's media_time (v0)",
      { mdhd: header(0, 12_800), elst: elst(0, [[1440, 1024]]) },
      { timeScale: 12_800, shift: -1024 },
    ],
    [
      "shifts by minus the first edit's media_time (v1)",
      { mdhd: header(0, 12_800), elst: elst(1, [[1440, 2048]]) },
      { timeScale: 12_800, shift: -2048 },
    ],
    [
      "adds an empty edit, converted from the movie's timescale to the track's",
      {
        mvhd: header(0, 1000),
        mdhd: header(0, 12_800),
        elst: elst(0, [
          [500, -1],
          [1440, 0],
        ]),
      },
      { timeScale: 12_800, shift: 6400 },
    ],
    [
      "ignores an empty edit without the movie's timescale",
      {
        mdhd: header(0, 12_800),
        elst: elst(0, [
          [500, -1],
          [1440, 512],
        ]),
      },
      { timeScale: 12_800, shift: -512 },
    ],
    [
      "takes an elst that declares more entries than it holds as none",
      { mdhd: header(0, 12_800), elst: elst(0, [[1440, 1024]], 2) },
      { timeScale: 12_800, shift: 0 },
    ],
    [
      "takes an elst cut inside its entry count as none",
      { mdhd: header(0, 12_800), elst: [0, 0, 0, 0, 0, 0] },
      { timeScale: 12_800, shift: 0 },
    ],
    [
      "gives no timescale for an mdhd cut before it",
      { mdhd: [0, 0, 0, 0, 0, 0, 0] },
      { timeScale: null, shift: 0 },
    ],
    ["gives no timescale for a timescale of 0", { mdhd: header(0, 0) }, { timeScale: null, shift: 0 }],
  ];
  for (const [what, parts, want] of cases) {
    test(`readTrackTime() ${what}`, () => {
      const { b, boxes } = layout(parts);
      expect(readTrackTime(b, boxes)).toEqual(want);
    });
  }

  test("timeScaleOf() is null without a box", () => {
    expect(timeScaleOf(new Uint8Array(0), undefined)).toBeNull();
  });

  test("readTrackTime() never throws on random bodies of any length (seeded fuzz)", () => {
    const rand = seededInts(2026);
    const bytes = (max: number) => Array.from({ length: rand(max) }, () => rand(256));
    for (let i = 0; i < 2000; i++) {
      // A version byte of 0 or 1 half the time, so the parsers get past their first check.
      const parts = { mvhd: bytes(40), mdhd: bytes(40), elst: [rand(2), ...bytes(80)] };
      const { b, boxes } = layout(parts);
      const t = readTrackTime(b, boxes);
      expect(Number.isFinite(t.shift)).toBe(true);
    }
  });
});
