/** @module Tests of UnitRunTable: runs kept in order, RUN_FIELDS numbers each, across its parts, read before and after more pushes. */
import { describe, expect, test } from "bun:test";
import { RUN_FIELDS } from "./es-pattern-plan.ts";
import { UnitRunTable } from "./unit-run-table.ts";

describe("UnitRunTable", () => {
  for (const n of [0, 1, 16383, 16384, 16385, 40000]) {
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
});
