/** @module Tests of runsToBody(): the run clipping against a byte-by-byte reference on random runs, in place and copied. */
import { describe, expect, test } from "bun:test";
import { SeededRandom } from "../../test/support/seeded-random.ts";
import type { ByteRange } from "../recording-index.ts";
import { RUN_FIELDS } from "./run-window.ts";
import { runsToBody } from "./runs-to-body.ts";

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
