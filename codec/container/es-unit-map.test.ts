import { describe, expect, test } from "bun:test";
import type { ByteRange } from "../recording-index.ts";
import { EsUnitMap } from "./es-unit-map.ts";
import { RangeCoalescer } from "./range-coalescer.ts";

interface Piece {
  es: number;
  length: number;
  /** File offset of the piece's first byte. */
  file: number;
  unit: number;
  unitLength: number;
}

/** The obvious model of esToFile: per piece, the overlapping bytes. */
function naiveFile(pieces: Piece[], esOffset: number, esLength: number): ByteRange[] {
  const out: ByteRange[] = [];
  for (const p of pieces) {
    const from = Math.max(esOffset, p.es);
    const to = Math.min(esOffset + esLength, p.es + p.length);
    if (to > from) out.push({ offset: p.file + (from - p.es), length: to - from });
  }
  return coalesce(out);
}

function coalesce(ranges: ByteRange[]): ByteRange[] {
  const out: ByteRange[] = [];
  for (const r of ranges) {
    const last = out[out.length - 1];
    if (last && last.offset + last.length === r.offset) last.length += r.length;
    else out.push({ ...r });
  }
  return out;
}

function fileRanges(map: EsUnitMap, esOffset: number, esLength: number): ByteRange[] {
  const out: ByteRange[] = [];
  map.esToFile(esOffset, esLength, (offset, length) => out.push({ offset, length }));
  return coalesce(out);
}

/** The obvious model: one record per piece, a linear search. */
function naiveProtect(pieces: Piece[], esOffset: number, esLength: number, exact: boolean): ByteRange[] {
  const out = new RangeCoalescer();
  const end = esOffset + esLength;
  for (const p of pieces) {
    if (p.length === 0 || p.es + p.length <= esOffset || p.es >= end) continue;
    if (exact) {
      const from = Math.max(esOffset, p.es);
      out.add(p.unit + (from - p.es), Math.min(end, p.es + p.length) - from);
    } else {
      out.add(p.unit, p.unitLength);
    }
  }
  return out.ranges();
}

function protect(map: EsUnitMap, esOffset: number, esLength: number, exact: boolean): ByteRange[] {
  const out = new RangeCoalescer();
  map.protect(esOffset, esLength, exact, out);
  return out.ranges();
}

/** Mulberry32. */
function random(seed: number): (n: number) => number {
  let s = seed >>> 0;
  return (n) => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = Math.imul(s ^ (s >>> 15), s | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) % n;
  };
}

describe("EsUnitMap", () => {
  test("EsUnitMap keeps one run for back-to-back TS packets with full payloads", () => {
    const map = new EsUnitMap();
    for (let k = 0; k < 100; k++) map.append(k * 184, 184, 1004 + k * 188, 1000 + k * 188, 188);
    expect(map.size).toBe(1);
    expect(fileRanges(map, 184 * 10 + 5, 184 * 2 - 5)).toEqual([
      { offset: 1004 + 10 * 188 + 5, length: 179 },
      { offset: 1004 + 11 * 188, length: 184 },
    ]);
    // ES bytes 184*10+5 .. 184*12 sit in packets 10 and 11.
    expect(protect(map, 184 * 10 + 5, 184 * 2 - 5, false)).toEqual([
      { offset: 1000 + 10 * 188, length: 2 * 188 },
    ]);
  });

  const cases: [string, Piece[], [number, number, boolean], ByteRange[]][] = [
    [
      "a packet after a gap (an audio packet between) starts a new run",
      [
        { es: 0, length: 184, file: 4, unit: 0, unitLength: 188 },
        { es: 184, length: 184, file: 380, unit: 376, unitLength: 188 },
      ],
      [100, 100, false],
      [
        { offset: 0, length: 188 },
        { offset: 376, length: 188 },
      ],
    ],
    [
      "a short payload (adaptation field) ends a run",
      [
        { es: 0, length: 184, file: 4, unit: 0, unitLength: 188 },
        { es: 184, length: 176, file: 200, unit: 188, unitLength: 188 },
        { es: 360, length: 184, file: 380, unit: 376, unitLength: 188 },
      ],
      [359, 2, false],
      [{ offset: 188, length: 376 }],
    ],
    [
      "more bytes of the last unit extend it (a PES packet in pieces)",
      [
        { es: 0, length: 100, file: 14, unit: 0, unitLength: 2048 },
        { es: 100, length: 1900, file: 114, unit: 0, unitLength: 2048 },
        { es: 2000, length: 2000, file: 2062, unit: 2048, unitLength: 2048 },
      ],
      [1999, 1, false],
      [{ offset: 0, length: 2048 }],
    ],
    [
      "exact mode maps an ES range to exactly its bytes",
      [
        { es: 0, length: 4096, file: 0, unit: 0, unitLength: 4096 },
        { es: 4096, length: 4096, file: 4096, unit: 4096, unitLength: 4096 },
      ],
      [4000, 200, true],
      [{ offset: 4000, length: 200 }],
    ],
    [
      "empty pieces are not recorded",
      [{ es: 0, length: 0, file: 4, unit: 0, unitLength: 188 }],
      [0, 10, false],
      [],
    ],
  ];
  for (const [name, pieces, [at, length, exact], want] of cases) {
    test(`EsUnitMap: ${name}`, () => {
      const map = new EsUnitMap();
      for (const p of pieces) map.append(p.es, p.length, p.file, p.unit, p.unitLength);
      expect(protect(map, at, length, exact)).toEqual(want);
      expect(fileRanges(map, at, length)).toEqual(naiveFile(pieces, at, length));
      expect(naiveProtect(pieces, at, length, exact)).toEqual(want);
    });
  }

  test("EsUnitMap drops runs that end before the settled offset, and only those", () => {
    const map = new EsUnitMap();
    map.append(0, 184, 4, 0, 188);
    map.append(184, 184, 404, 400, 188);
    map.trim(184);
    expect(map.size).toBe(1);
    expect(protect(map, 0, 400, false)).toEqual([{ offset: 400, length: 188 }]);
    map.trim(368);
    expect(map.size).toBe(0);
    map.append(368, 184, 592, 588, 188); // continues the dropped run's layout: must be a run of its own
    expect(protect(map, 368, 1, false)).toEqual([{ offset: 588, length: 188 }]);
  });

  test("EsUnitMap agrees with a per-piece model on 300 random TS- and PS-like streams", () => {
    for (let seed = 1; seed <= 300; seed++) {
      const rand = random(seed);
      const map = new EsUnitMap();
      const pieces: Piece[] = [];
      const unitLength = rand(2) ? 188 : 2048;
      let es = 0;
      let unit = rand(1000);
      let settled = 0;
      for (let k = 0; k < 400; k++) {
        const roll = rand(20);
        if (roll === 0) unit += unitLength * (1 + rand(3)); // units of other streams between
        const length = roll === 1 ? rand(unitLength) : roll === 2 ? 1 + rand(40) : unitLength - 4;
        const prev = pieces[pieces.length - 1];
        const sameUnit = roll === 3 && prev !== undefined;
        const u = sameUnit ? prev.unit : unit;
        // TS payloads end their packet; a PES payload follows a header; a continuation follows its piece.
        const file = sameUnit ? prev.file + prev.length : unitLength === 188 ? u + 188 - length : u + 14;
        map.append(es, length, file, u, unitLength);
        pieces.push({ es, length, file, unit: u, unitLength });
        es += length;
        if (!sameUnit) unit += unitLength;
        if (rand(50) === 0) {
          settled = Math.max(settled, es - rand(3000));
          map.trim(settled);
        }
        const at = settled + rand(Math.max(1, es - settled));
        const len = 1 + rand(5000);
        const live = pieces.filter((p) => p.es + p.length > settled);
        expect([seed, k, protect(map, at, len, false)]).toEqual([
          seed,
          k,
          naiveProtect(live, at, len, false),
        ]);
        // esToFileContiguous: an offset only when the bytes are one file piece; always one inside a piece.
        const short = 1 + rand(200);
        const whole = naiveFile(live, at, short);
        const got = map.esToFileContiguous(at, short);
        if (got >= 0) expect([seed, k, [{ offset: got, length: short }]]).toEqual([seed, k, whole]);
        const inOne = live.some((p) => p.es <= at && at + short <= p.es + p.length);
        if (inOne && at + short <= es) expect([seed, k, got]).toEqual([seed, k, whole[0]!.offset]);
        // patternToFile: the pieces of every block (run of 16 or 32 bytes every 160), as esToFile() per block
        // (on every 8th step: the model is slow).
        if (k % 8 !== 0) continue;
        const run = rand(2) ? 16 : 32;
        const span = 1 + rand(3000);
        const byBlock: ByteRange[] = [];
        for (let b = at; b < at + span; b += 160)
          byBlock.push(...naiveFile(live, b, Math.min(run, at + span - b)));
        const walked: ByteRange[] = [];
        map.patternToFile(at, at + span, run, 160, (offset, length) => walked.push({ offset, length }));
        expect([seed, k, coalesce(walked)]).toEqual([seed, k, coalesce(byBlock)]);
      }
    }
  });

  test("EsUnitMap agrees with a per-piece model in exact mode on 100 random ES chunkings", () => {
    for (let seed = 1; seed <= 100; seed++) {
      const rand = random(seed);
      const map = new EsUnitMap();
      const pieces: Piece[] = [];
      let es = 0;
      for (let k = 0; k < 200; k++) {
        // An ES: the file offset is the ES offset, a unit is the chunk itself; equal chunks make runs.
        const length = rand(3) === 0 ? 1 + rand(9000) : 4096;
        map.append(es, length, es, es, length);
        pieces.push({ es, length, file: es, unit: es, unitLength: length });
        es += length;
        const at = rand(es);
        const len = 1 + rand(20_000);
        expect([seed, k, protect(map, at, len, true)]).toEqual([
          seed,
          k,
          naiveProtect(pieces, at, len, true),
        ]);
      }
    }
  });

  test("EsUnitMap.append() with a count maps like that many single appends", () => {
    for (let seed = 1; seed <= 200; seed++) {
      const rand = random(seed);
      const runs = new EsUnitMap();
      const singles = new EsUnitMap();
      let es = 0;
      let unit = rand(1000);
      for (let k = 0; k < 60; k++) {
        if (rand(4) === 0) unit += 188 * (1 + rand(3)); // packets of other PIDs between
        // Runs as the TS kernel reports them: full payloads, payloads after a PES header or an adaptation
        // field, sometimes a piece of the unit just recorded (a PES header spread over packets).
        const skip = rand(3) === 0 ? 4 + rand(180) : 4;
        const length = 188 - skip;
        const count = rand(3) === 0 ? 1 : 1 + rand(60);
        runs.append(es, length, unit + skip, unit, 188, count);
        for (let i = 0; i < count; i++)
          singles.append(es + i * length, length, unit + skip + i * 188, unit + i * 188, 188);
        es += length * count;
        unit += 188 * count;
        const at = rand(es);
        const len = 1 + rand(20_000);
        expect([seed, k, protect(runs, at, len, false)]).toEqual([seed, k, protect(singles, at, len, false)]);
        expect([seed, k, fileRanges(runs, at, len)]).toEqual([seed, k, fileRanges(singles, at, len)]);
        expect(runs.size).toBe(singles.size);
      }
    }
  });
});
