/** @module Tests of the version 3 plan's walk and encrypted-byte count against a byte-by-byte reference on random plans. */
import { describe, expect, test } from "bun:test";
import { SeededRandom } from "../../test/support/seeded-random.ts";
import { type EsPatternPlan, EsPatternWalk, esPatternEncryptedBytes, RUN_FIELDS } from "./es-pattern-plan.ts";
import { PatternRangeTable } from "./pattern-range-table.ts";

/** A random plan: runs of units with gaps in ES and body, slices anywhere (inside, across and outside runs). */
function randomPlan(rnd: SeededRandom): EsPatternPlan {
  const runs: number[] = [];
  let es = rnd.below(50);
  let body = rnd.below(50);
  const runCount = rnd.below(8);
  for (let i = 0; i < runCount; i++) {
    const l = 1 + rnd.below(200);
    const stride = l + (rnd.below(2) === 0 ? 0 : rnd.below(10));
    const count = 1 + rnd.below(6);
    runs.push(es, l, body, stride, count);
    es += l * count + (rnd.below(2) === 0 ? 0 : rnd.below(400));
    body += stride * (count - 1) + l + rnd.below(30);
  }
  const slices = new PatternRangeTable();
  let at = rnd.below(40);
  while (at < es + 100) {
    const len = 1 + rnd.below(700);
    slices.push(at, len);
    at += len + 1 + rnd.below(300);
  }
  const crypt = 1 + rnd.below(3);
  const plan = {
    scheme: { kind: "slice-block", crypt, skip: rnd.below(10) } as const,
    slices,
    runs: new Float64Array(runs),
    runCount,
  };
  return { ...plan, encryptedBytes: 0 };
}

/** Body offsets of the encrypted bytes, one by one: the rule per slice, each ES byte through the run carrying it. */
function reference(plan: EsPatternPlan): number[] {
  const crypt = plan.scheme.crypt * 16;
  const period = (plan.scheme.crypt + plan.scheme.skip) * 16;
  const out: number[] = [];
  plan.slices.forEach((s, len) => {
    for (let x = s; x < s + len; x++) {
      if ((x - s) % period >= crypt) continue;
      for (let j = 0; j < plan.runCount; j++) {
        const [es, l, body, stride, count] = (plan.runs as Float64Array).subarray(
          RUN_FIELDS * j,
          RUN_FIELDS * j + 5,
        );
        if (x >= es! && x < es! + l! * count!) {
          const k = Math.floor((x - es!) / l!);
          out.push(body! + k * stride! + (x - es! - k * l!));
        }
      }
    }
  });
  return out;
}

function walked(plan: EsPatternPlan, window: number): number[] {
  const walk = new EsPatternWalk(plan);
  const pieces = new Float64Array(2 * window);
  const out: number[] = [];
  for (let n = walk.fill(pieces); n > 0; n = walk.fill(pieces))
    for (let i = 0; i < n; i++) for (let b = 0; b < pieces[2 * i + 1]!; b++) out.push(pieces[2 * i]! + b);
  return out;
}

describe("EsPatternWalk and esPatternEncryptedBytes()", () => {
  test("EsPatternWalk.fill() gives the reference's bytes in order, whatever the batch size, on 300 random plans", () => {
    const rnd = new SeededRandom(77);
    for (let i = 0; i < 300; i++) {
      const plan = randomPlan(rnd);
      const ref = reference(plan);
      expect([i, walked(plan, 1 + rnd.below(5))]).toEqual([i, ref]);
      expect([i, walked(plan, 1024)]).toEqual([i, ref]);
      expect([i, esPatternEncryptedBytes(plan)]).toEqual([i, ref.length]);
    }
  });

  test("EsPatternWalk jumps an ES gap of 2^50 bytes at once", () => {
    const slices = new PatternRangeTable();
    slices.push(0, 2 ** 50);
    const plan: EsPatternPlan = {
      scheme: { kind: "slice-block", crypt: 1, skip: 9 },
      slices,
      runs: new Float64Array([2 ** 50 - 40, 100, 0, 100, 1]),
      runCount: 1,
      encryptedBytes: 0,
    };
    expect(walked(plan, 16).length).toBe(esPatternEncryptedBytes(plan));
  });
});
