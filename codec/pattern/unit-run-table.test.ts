/** @module Tests of UnitRunTable: runs kept in order, RUN_FIELDS numbers each, across its parts, read before and after more pushes. */
import { describe, expect, test } from "bun:test";
import { RUN_FIELDS } from "./es-pattern-plan.ts";
import { UnitRunTable } from "./unit-run-table.ts";

function thrownBy(use: () => unknown): unknown {
  try {
    use();
  } catch (e) {
    return (e as Error).constructor;
  }
  return undefined;
}

describe("UnitRunTable", () => {
  for (const n of [0, 1, 65535, 65536, 65537, 140000]) {
    test(`UnitRunTable.push() keeps ${n} runs in order, field by field`, () => {
      const t = new UnitRunTable();
      for (let i = 0; i < n; i++) {
        t.push(10 * i, 184, 188 * i + 4, 188, i + 1);
        // Read half-way: the joined array must not be given again once more runs are pushed.
        if (i === n >> 1) expect(t.runs.length).toBeGreaterThanOrEqual(RUN_FIELDS * (i + 1));
      }
      expect(t.count).toBe(n);
      expect(t.runs.length).toBeGreaterThanOrEqual(RUN_FIELDS * n);
      for (let i = 0; i < n; i++) {
        const at = RUN_FIELDS * i;
        expect(Array.from(t.runs.subarray(at, at + RUN_FIELDS))).toEqual([
          10 * i,
          184,
          188 * i + 4,
          188,
          i + 1,
        ]);
      }
    });
  }

  for (const n of [0, 1, 65536, 65537, 140000]) {
    test(`UnitRunTable.take() gives ${n} runs across its parts as the runs getter did`, () => {
      const t = new UnitRunTable();
      for (let i = 0; i < n; i++) t.push(10 * i, 184, 188 * i + 4, 188, i + 1);
      // Not read through the getter first: take() joins the parts itself, freeing each once copied.
      const wanted = new Float64Array(RUN_FIELDS * n);
      for (let i = 0; i < n; i++) wanted.set([10 * i, 184, 188 * i + 4, 188, i + 1], RUN_FIELDS * i);
      const taken = t.take();
      expect(taken.count).toBe(n);
      expect((taken.runs as Float64Array).subarray(0, RUN_FIELDS * n)).toEqual(wanted);
    });
  }

  test("UnitRunTable.take() gives the runs once: reading or pushing after it throws a TypeError", () => {
    const t = new UnitRunTable();
    t.push(0, 184, 4, 188, 3);
    t.push(552, 184, 1000, 188, 1);
    const taken = t.take();
    expect(taken.count).toBe(2);
    expect(Array.from((taken.runs as Float64Array).subarray(RUN_FIELDS, 2 * RUN_FIELDS))).toEqual([
      552, 184, 1000, 188, 1,
    ]);
    const after: Array<[string, () => unknown]> = [
      ["runs", () => t.runs],
      ["push()", () => t.push(736, 184, 2000, 188, 1)],
      ["take()", () => t.take()],
    ];
    for (const [name, use] of after) expect([name, thrownBy(use)]).toEqual([name, TypeError]);
  });
});
