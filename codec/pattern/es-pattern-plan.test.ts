/** @module Tests of the version 3 plan's walk, encrypted-byte count and run clipping against a byte-by-byte reference on random plans. */
import { describe, expect, test } from "bun:test";
import { SeededRandom } from "../../test/support/seeded-random.ts";
import type { ByteRange } from "../recording-index.ts";
import {
  type EsPatternPlan,
  EsPatternWalk,
  esPatternEncryptedBytes,
  RUN_FIELDS,
  runsToBody,
} from "./es-pattern-plan.ts";
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

describe("runsToBody()", () => {
  test("runsToBody() in place gives the runs a copy gives, whether the splits outrun the dropped runs or not", () => {
    const rnd = new SeededRandom(9);
    /** How many tables stayed where they were, and how many moved to a fresh array part-way. */
    const kept = { inPlace: 0, moved: 0 };
    for (let i = 0; i < 100; i++) {
      // Many runs of 188-byte packets; protected ranges covering some whole (a sealed picture: room for the
      // body runs) and, in every other table, splitting others (a body run more than the file runs before it).
      const count = 1 + rnd.below(60);
      const runs = new Float64Array(RUN_FIELDS * count);
      const prot: ByteRange[] = [];
      let file = rnd.below(50);
      for (let r = 0; r < count; r++) {
        const units = 1 + rnd.below(8);
        runs.set([1000 * r, 184, file, 188, units], RUN_FIELDS * r);
        if (rnd.below(3) === 0) prot.push({ offset: file, length: 188 * units });
        else if (i % 2 === 1 && rnd.below(2) === 0)
          prot.push({ offset: file + 50 + rnd.below(100), length: 1 + rnd.below(300) });
        file += 188 * units + 400 + rnd.below(400);
      }
      const copied = runsToBody(runs, count, prot);
      const given = runs.slice();
      const inPlace = runsToBody(given, count, prot, { inPlace: true });
      kept[inPlace.runs === given ? "inPlace" : "moved"]++;
      expect([i, inPlace.runCount]).toEqual([i, copied.runCount]);
      expect([i, Array.from(inPlace.runs.subarray(0, RUN_FIELDS * inPlace.runCount))]).toEqual([
        i,
        Array.from(copied.runs.subarray(0, RUN_FIELDS * copied.runCount)),
      ]);
    }
    expect(kept.inPlace).toBeGreaterThan(10);
    expect(kept.moved).toBeGreaterThan(10);
  });

  test("runsToBody() maps every ES byte outside the protected ranges to its body offset, and drops the rest", () => {
    const rnd = new SeededRandom(5);
    for (let i = 0; i < 200; i++) {
      // File runs of 188-byte packets with 184-byte payloads (or back-to-back ES units), protected ranges anywhere.
      const es = rnd.below(2) === 0;
      const l = es ? 1 + rnd.below(500) : 184;
      const stride = es ? l : 188;
      const count = 1 + rnd.below(40);
      const file0 = rnd.below(20);
      const prot: ByteRange[] = [];
      for (let at = rnd.below(300); at < file0 + stride * count; at += 1 + rnd.below(900)) {
        const length = 1 + rnd.below(600);
        prot.push({ offset: at, length });
        at += length;
      }
      const body = runsToBody(new Float64Array([0, l, file0, stride, count]), 1, prot);
      const bodyOf = (file: number) => {
        let before = 0;
        for (const p of prot) {
          if (file >= p.offset && file < p.offset + p.length) return -1;
          if (p.offset + p.length <= file) before += p.length;
        }
        return file - before;
      };
      const expected: Array<[number, number]> = [];
      for (let x = 0; x < l * count; x++) {
        const k = Math.floor(x / l);
        const b = bodyOf(file0 + k * stride + (x - k * l));
        if (b >= 0) expected.push([x, b]);
      }
      const got: Array<[number, number]> = [];
      for (let j = 0; j < body.runCount; j++) {
        const [e0, rl, b0, rs, rc] = body.runs.subarray(RUN_FIELDS * j, RUN_FIELDS * j + 5);
        for (let x = 0; x < rl! * rc!; x++) {
          const k = Math.floor(x / rl!);
          got.push([e0! + x, b0! + k * rs! + (x - k * rl!)]);
        }
      }
      expect([i, got]).toEqual([i, expected]);
    }
  });
});
