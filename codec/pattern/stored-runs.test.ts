/** @module Tests of StoredRuns: a UnitRunTable over a block store reads back through RunWindow as the array does, across block edges, forward, back and on a failed read; runsToBody(), the encrypted-byte counts, the walks and the header over stored runs give what the array gives. */
import { describe, expect, test } from "bun:test";
import { SeededRandom } from "../../test/support/seeded-random.ts";
import { tsLikeRuns } from "../../test/support/ts-like-runs.ts";
import { CbcsEsWalk, cbcsEsEncryptedBytes } from "./cbcs-es-walk.ts";
import { type EsPatternPlan, EsPatternWalk, esPatternEncryptedBytes } from "./es-pattern-plan.ts";
import { PatternDirectEncoder } from "./pattern-direct-encoder.ts";
import { encodePatternHeaderV3, patternHeaderV3Length, runsBodyEnd } from "./pattern-header-v3.ts";
import { PatternRangeTable } from "./pattern-range-table.ts";
import { RUN_FIELDS, RunWindow } from "./run-window.ts";
import { runsToBody } from "./runs-to-body.ts";
import type { RangeBlockStore } from "./stored-blocks.ts";
import { STORED_RUN_BLOCK_RUNS as B, StoredRuns } from "./stored-runs.ts";
import { UnitRunTable } from "./unit-run-table.ts";

/** A block store in memory (what PlanSpillFiles does in a file), counting reads; `failGet` makes get() throw. */
function memoryStore(o: { failGet?: number } = {}) {
  const blocks = new Map<number, Uint8Array>();
  const stats = { gets: 0, puts: 0 };
  const store: RangeBlockStore = {
    put: (i, bytes) => {
      stats.puts++;
      blocks.set(i, bytes.slice());
    },
    get: (i, into) => {
      stats.gets++;
      if (i === o.failGet)
        throw new RangeError(`Cannot read pattern plan block ${i}: the spill file ends early`);
      const b = blocks.get(i);
      if (b === undefined || b.length !== into.length) throw new RangeError(`Cannot read block ${i}`);
      into.set(b);
    },
  };
  return { store, stats };
}

/** Body-order runs (units of 1-184 ES bytes, strides a little longer, gaps in both), as an array. */
function bodyRuns(count: number, seed: number): { runs: Float64Array; esEnd: number } {
  const { runs, esEnd } = tsLikeRuns(count, new SeededRandom(seed), {
    esGap: (rnd) => (rnd.below(3) === 0 ? rnd.below(4) : 0),
  });
  return { runs, esEnd };
}

function stored(runs: Float64Array, count: number, store: RangeBlockStore): StoredRuns {
  const t = new UnitRunTable({ store: () => store });
  for (let i = 0; i < count; i++) {
    const k = RUN_FIELDS * i;
    t.push(runs[k]!, runs[k + 1]!, runs[k + 2]!, runs[k + 3]!, runs[k + 4]!);
  }
  const taken = t.take();
  if (!(taken.runs instanceof StoredRuns)) throw new TypeError("not stored");
  return taken.runs;
}

function fieldsAt(w: RunWindow, i: number): number[] {
  const at = w.at(i);
  return Array.from(w.rows.subarray(at, at + RUN_FIELDS));
}

describe("StoredRuns", () => {
  for (const n of [0, 1, B - 1, B, B + 1, 2 * B + 7]) {
    test(`RunWindow.stored() reads ${n} stored runs forward as the array has them`, () => {
      const { runs } = bodyRuns(n, n + 1);
      const { store, stats } = memoryStore();
      const s = stored(runs, n, store);
      // Full blocks go to the store as they fill (the last full one at the next push): at most one is held.
      expect([s.count, s.storedBlocks]).toEqual([n, Math.max(0, Math.ceil(n / B) - 1)]);
      expect(stats.puts).toBe(s.storedBlocks);
      const w = RunWindow.over(s, n);
      for (let i = 0; i < n; i++) {
        const at = w.at(i);
        for (let f = 0; f < RUN_FIELDS; f++)
          if (w.rows[at + f] !== runs[RUN_FIELDS * i + f]) throw new Error(`run ${i} field ${f}`);
      }
      expect(stats.gets).toBe(s.storedBlocks);
      expect(() => w.at(n)).toThrow(RangeError);
    });
  }

  const edges: Array<[string, number[]]> = [
    ["the look-back over a block edge", [B + 3, B - 1, B - 32, B + 1]],
    ["a jump to the last run and back to the first", [2 * B + 6, 0, 1, B]],
    ["backwards past the look-back", [2 * B + 1, B - 40, 5]],
  ];
  for (const [name, order] of edges)
    test(`RunWindow.stored() reads runs in any order: ${name}`, () => {
      const n = 2 * B + 7;
      const { runs } = bodyRuns(n, 7);
      const w = RunWindow.stored(stored(runs, n, memoryStore().store));
      for (const i of order)
        expect([i, fieldsAt(w, i)]).toEqual([
          i,
          Array.from(runs.subarray(RUN_FIELDS * i, RUN_FIELDS * (i + 1))),
        ]);
    });

  test("RunWindow.stored() fails with the store's error on a failed read, then reads the other blocks", () => {
    const n = 3 * B;
    const { runs } = bodyRuns(n, 3);
    const w = RunWindow.stored(stored(runs, n, memoryStore({ failGet: 1 }).store));
    expect(fieldsAt(w, B - 1)).toEqual(Array.from(runs.subarray(RUN_FIELDS * (B - 1), RUN_FIELDS * B)));
    expect(() => w.at(B)).toThrow(/spill file ends early/);
    expect(() => w.at(B)).toThrow(RangeError);
    expect(fieldsAt(w, 2 * B)).toEqual(
      Array.from(runs.subarray(RUN_FIELDS * 2 * B, RUN_FIELDS * (2 * B + 1))),
    );
  });

  test("StoredRuns.release() gives the runs up: a read after it is a TypeError", () => {
    const s = stored(bodyRuns(B + 1, 4).runs, B + 1, memoryStore().store);
    s.release();
    expect(s.released).toBe(true);
    expect(() => RunWindow.stored(s).at(0)).toThrow(TypeError);
  });

  test("PatternDirectEncoder({ handOverRuns }) over stored runs releases them: a second encoder of the plan is a TypeError", () => {
    const n = B + 2;
    const { runs, esEnd } = bodyRuns(n, 9);
    const slices = new PatternRangeTable();
    slices.push(3, Math.min(5000, esEnd - 3));
    const es: EsPatternPlan = {
      scheme: { kind: "slice-block", crypt: 1, skip: 9 },
      slices,
      runs: stored(runs, n, memoryStore().store),
      runCount: n,
      encryptedBytes: 0,
    };
    es.encryptedBytes = esPatternEncryptedBytes(es);
    const plan = { scheme: es.scheme, ranges: [], es, handOverRuns: true };
    const keys = () => new Uint8Array(0);
    const length = patternHeaderV3Length(es);
    expect(new PatternDirectEncoder(plan, new Uint8Array(16), keys).addedBytes).toBe(length);
    expect((es.runs as StoredRuns).released).toBe(true);
    expect(() => new PatternDirectEncoder(plan, new Uint8Array(16), keys)).toThrow(TypeError);
  });

  test("UnitRunTable over a store: the runs getter is a TypeError, and take() is once", () => {
    const t = new UnitRunTable({ store: () => memoryStore().store });
    t.push(0, 184, 4, 188, 1);
    expect(() => t.runs).toThrow(TypeError);
    t.take();
    expect(() => t.take()).toThrow(TypeError);
    expect(() => t.push(184, 184, 192, 188, 1)).toThrow(TypeError);
  });

  test("runsToBody() without a store for stored runs is a TypeError", () => {
    const s = stored(bodyRuns(2, 4).runs, 2, memoryStore().store);
    expect(() => runsToBody(s, 2, [], {})).toThrow(TypeError);
  });

  const moves: Array<[string, number, (esEnd: number) => Array<{ offset: number; length: number }>]> = [
    ["no protected range", B + 5, () => []],
    ["ranges cutting units across a block edge", 2 * B + 9, (end) => spread(end, 400, 3000)],
    ["a range dropping a block's worth of runs", 2 * B + 9, (end) => [{ offset: end / 4, length: end / 2 }]],
  ];
  for (const [name, n, ranges] of moves)
    test(`runsToBody() into a store gives the array's body runs: ${name}`, () => {
      const { runs } = bodyRuns(n, n);
      // Protected ranges in file offsets: the body runs' offsets stand in for them (sorted, disjoint).
      const fileEnd = runsBodyEnd({ runs, runCount: n });
      const pr = ranges(fileEnd).map((r) => ({ offset: Math.floor(r.offset), length: Math.floor(r.length) }));
      const want = runsToBody(runs, n, pr);
      const got = runsToBody(stored(runs, n, memoryStore().store), n, pr, {
        inPlace: true,
        store: () => memoryStore().store,
      });
      expect(got.runCount).toBe(want.runCount);
      const w = RunWindow.over(got.runs, got.runCount);
      for (let i = 0; i < want.runCount; i++) {
        const at = w.at(i);
        for (let f = 0; f < RUN_FIELDS; f++)
          if (w.rows[at + f] !== want.runs[RUN_FIELDS * i + f]) throw new Error(`body run ${i} field ${f}`);
      }
    });

  for (const kind of ["slice-block", "cbcs"] as const)
    for (const [slices, n] of [
      ["short slices", 2 * B + 3],
      ["slices over hundreds of runs", 2 * B + 3],
    ] as const)
      test(`a ${kind} plan over stored runs counts, walks and writes its header as over the array: ${slices}`, () => {
        const { runs, esEnd } = bodyRuns(n, 11);
        const table = new PatternRangeTable();
        const rnd = new SeededRandom(5);
        const span = slices === "short slices" ? 1500 : 60000;
        for (let at = 3; at + 40 < esEnd; at += span) table.push(at, 40 + rnd.below(span - 100));
        const scheme =
          kind === "cbcs" ? ({ kind, crypt: 1, skip: 9 } as const) : ({ kind, crypt: 1, skip: 9 } as const);
        const mem: EsPatternPlan = { scheme, slices: table, runs, runCount: n, encryptedBytes: 0 };
        const st: EsPatternPlan = { ...mem, runs: stored(runs, n, memoryStore().store) };
        const count = (p: EsPatternPlan) =>
          p.scheme.kind === "cbcs"
            ? cbcsEsEncryptedBytes({ ...p, scheme: p.scheme })
            : esPatternEncryptedBytes(p);
        mem.encryptedBytes = count(mem);
        st.encryptedBytes = count(st);
        expect(st.encryptedBytes).toBe(mem.encryptedBytes);
        expect(mem.encryptedBytes).toBeGreaterThan(0);
        expect(runsBodyEnd(st)).toBe(runsBodyEnd(mem));
        expect(patternHeaderV3Length(st)).toBe(patternHeaderV3Length(mem));
        const fields = { salt: new Uint8Array(16), originalSha256: new Uint8Array(32), directBodyLength: 0 };
        fields.directBodyLength = Math.max(runsBodyEnd(mem), mem.encryptedBytes);
        expect(encodePatternHeaderV3({ ...fields, plan: st })).toEqual(
          encodePatternHeaderV3({ ...fields, plan: mem }),
        );
        expect(walked(st)).toEqual(walked(mem));
      });
});

/** Protected ranges of `length` every `every` bytes up to `end`. */
function spread(end: number, length: number, every: number): Array<{ offset: number; length: number }> {
  const out = [];
  for (let at = every / 2; at + length < end; at += every) out.push({ offset: at, length });
  return out;
}

/** Every piece a plan's walk gives, as one array. */
function walked(plan: EsPatternPlan): number[] {
  const out: number[] = [];
  if (plan.scheme.kind === "cbcs") {
    const walk = new CbcsEsWalk({ ...plan, scheme: plan.scheme });
    const pieces = new Float64Array(2048);
    const flags = new Uint8Array(1024);
    for (let n = walk.fill(pieces, flags); n > 0; n = walk.fill(pieces, flags))
      for (let i = 0; i < n; i++) out.push(pieces[2 * i]!, pieces[2 * i + 1]!, flags[i]!);
    return out;
  }
  const walk = new EsPatternWalk(plan);
  const pieces = new Float64Array(2048);
  for (let n = walk.fill(pieces); n > 0; n = walk.fill(pieces)) out.push(...pieces.subarray(0, 2 * n));
  return out;
}
