import { describe, expect, test } from "bun:test";
import type { ByteRange } from "../recording-index.ts";
import { EsUnitMap } from "./es-unit-map.ts";
import { RangeCoalescer } from "./range-coalescer.ts";

interface Piece {
  es: number;
  length: number;
  unit: number;
  unitLength: number;
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
    for (let k = 0; k < 100; k++) map.append(k * 184, 184, 1000 + k * 188, 188);
    expect(map.size).toBe(1);
    // ES bytes 184*10+5 .. 184*12 sit in packets 10 and 11.
    expect(protect(map, 184 * 10 + 5, 184 * 2 - 5, false)).toEqual([
      { offset: 1000 + 10 * 188, length: 2 * 188 },
    ]);
  });

  const cases: [string, Piece[], [number, number, boolean], ByteRange[]][] = [
    [
      "a packet after a gap (an audio packet between) starts a new run",
      [
        { es: 0, length: 184, unit: 0, unitLength: 188 },
        { es: 184, length: 184, unit: 376, unitLength: 188 },
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
        { es: 0, length: 184, unit: 0, unitLength: 188 },
        { es: 184, length: 176, unit: 188, unitLength: 188 },
        { es: 360, length: 184, unit: 376, unitLength: 188 },
      ],
      [359, 2, false],
      [{ offset: 188, length: 376 }],
    ],
    [
      "more bytes of the last unit extend it (a PES packet in pieces)",
      [
        { es: 0, length: 100, unit: 0, unitLength: 2048 },
        { es: 100, length: 1900, unit: 0, unitLength: 2048 },
        { es: 2000, length: 2000, unit: 2048, unitLength: 2048 },
      ],
      [1999, 1, false],
      [{ offset: 0, length: 2048 }],
    ],
    [
      "exact mode maps an ES range to exactly its bytes",
      [
        { es: 0, length: 4096, unit: 0, unitLength: 4096 },
        { es: 4096, length: 4096, unit: 4096, unitLength: 4096 },
      ],
      [4000, 200, true],
      [{ offset: 4000, length: 200 }],
    ],
    ["empty pieces are not recorded", [{ es: 0, length: 0, unit: 0, unitLength: 188 }], [0, 10, false], []],
  ];
  for (const [name, pieces, [at, length, exact], want] of cases) {
    test(`EsUnitMap: ${name}`, () => {
      const map = new EsUnitMap();
      for (const p of pieces) map.append(p.es, p.length, p.unit, p.unitLength);
      expect(protect(map, at, length, exact)).toEqual(want);
      expect(naiveProtect(pieces, at, length, exact)).toEqual(want);
    });
  }

  test("EsUnitMap drops runs that end before the settled offset, and only those", () => {
    const map = new EsUnitMap();
    map.append(0, 184, 0, 188);
    map.append(184, 184, 400, 188);
    map.trim(184);
    expect(map.size).toBe(1);
    expect(protect(map, 0, 400, false)).toEqual([{ offset: 400, length: 188 }]);
    map.trim(368);
    expect(map.size).toBe(0);
    map.append(368, 184, 588, 188); // continues the dropped run's layout: must be a run of its own
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
        const sameUnit = roll === 3 && pieces.length > 0;
        const u = sameUnit ? pieces[pieces.length - 1]!.unit : unit;
        map.append(es, length, u, unitLength);
        pieces.push({ es, length, unit: u, unitLength });
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
        map.append(es, length, es, length);
        pieces.push({ es, length, unit: es, unitLength: length });
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
});
