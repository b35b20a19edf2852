/** @module Tests of RunWindow: runs decoded a window at a time from a header's varints read the same as the Float64Array, forward, with the walks' look-ahead, backwards, and on damaged bytes; the sender's ciphers over the run varints of the header it encoded encrypt as over the array. */
import { describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { makeCbcsTransform } from "../../crypto/cbcs-cipher.ts";
import { makePatternKeystream } from "../../crypto/keystream.ts";
import { codecErrorCode } from "../../test/support/header-corruption.ts";
import { SeededRandom } from "../../test/support/seeded-random.ts";
import { tsLikeRuns } from "../../test/support/ts-like-runs.ts";
import { concat } from "../split/split-bytes.ts";
import { CbcsEsCipher } from "./cbcs-es-cipher.ts";
import { CbcsEsWalk, cbcsEsEncryptedBytes } from "./cbcs-es-walk.ts";
import { EsPatternCipher } from "./es-pattern-cipher.ts";
import { type EsPatternPlan, EsPatternWalk, esPatternEncryptedBytes } from "./es-pattern-plan.ts";
import { decodePatternHeaderV3, encodedRunsOfHeaderV3, encodePatternHeaderV3 } from "./pattern-header-v3.ts";
import { PatternRangeTable } from "./pattern-range-table.ts";
import { type HeldRuns, RUN_FIELDS, RunWindow } from "./run-window.ts";

/** TS-like runs (units of 1-184 ES bytes, strides a little longer), slices over the ES they carry, as a header. */
function header(count: number, seed: number, scheme: EsPatternPlan["scheme"]) {
  const rnd = new SeededRandom(seed);
  const { runs, esEnd: es, bodyEnd: body } = tsLikeRuns(count, rnd);
  const slices = new PatternRangeTable();
  for (let at = 3; at + 40 < es; at += 1500) slices.push(at, 40 + rnd.below(1400));
  const plan: EsPatternPlan = { scheme, slices, runs, runCount: count, encryptedBytes: 0 };
  plan.encryptedBytes =
    scheme.kind === "cbcs" ? cbcsEsEncryptedBytes({ ...plan, scheme }) : esPatternEncryptedBytes(plan);
  const bytes = encodePatternHeaderV3({
    plan,
    salt: new Uint8Array(16),
    originalSha256: createHash("sha256").update("x").digest(),
    directBodyLength: body + 100,
  });
  return {
    plan,
    bytes,
    bodyLength: body + 100,
    whole: decodePatternHeaderV3(bytes).plan,
    encoded: decodePatternHeaderV3(bytes, { runs: "encoded" }).plan,
  };
}

const KEY = new Uint8Array(32).map((_, i) => 3 * i + 5);
const SALT = new Uint8Array(16).map((_, i) => 90 + i);

/** A body of `bodyLength` seeded bytes encrypted under `plan` in seeded chunks, as the sender's cipher does it. */
async function encrypt(
  plan: ConstructorParameters<typeof EsPatternCipher>[0],
  o: { bodyLength: number; seed: number },
): Promise<Uint8Array> {
  const body = new SeededRandom(o.seed).bytes(o.bodyLength);
  const chunks = new SeededRandom(o.seed + 1).chunks(body);
  if (plan.scheme.kind === "cbcs") {
    const cbcs = await makeCbcsTransform(KEY, SALT, "encrypt");
    const cipher = new CbcsEsCipher({ ...plan, scheme: plan.scheme }, o.bodyLength, cbcs);
    const out: Uint8Array[] = [];
    for (const c of chunks) out.push(...cipher.push(c));
    cipher.finish();
    return concat(out);
  }
  const cipher = new EsPatternCipher(plan, o.bodyLength, await makePatternKeystream(KEY, SALT));
  for (const c of chunks) cipher.apply(c);
  cipher.finish();
  return concat(chunks);
}

const SLICE_BLOCK = { kind: "slice-block", crypt: 1, skip: 9 } as const;
const CBCS = { kind: "cbcs", crypt: 1, skip: 9 } as const;

/** Run counts around the window's 4096 runs. */
const COUNTS = [1, 31, 4095, 4096, 4097, 12_345];

function rowOf(w: RunWindow, i: number): number[] {
  const at = w.at(i);
  return [...w.rows.subarray(at, at + RUN_FIELDS)];
}

describe("RunWindow", () => {
  for (const count of COUNTS) {
    test(`RunWindow.encoded() reads every run as the Float64Array has it, forward: ${count} runs`, () => {
      const { whole, encoded } = header(count, count, SLICE_BLOCK);
      const w = RunWindow.encoded(encoded.runs);
      for (let i = 0; i < count; i++)
        expect(rowOf(w, i)).toEqual([...whole.runs.subarray(RUN_FIELDS * i, RUN_FIELDS * i + RUN_FIELDS)]);
    });

    test(`RunWindow.encoded() keeps a run while the walk looks 16 runs ahead, and reads back from the start: ${count} runs`, () => {
      const { whole, encoded } = header(count, count + 1, SLICE_BLOCK);
      const w = RunWindow.encoded(encoded.runs);
      const want = (i: number) => [...whole.runs.subarray(RUN_FIELDS * i, RUN_FIELDS * i + RUN_FIELDS)];
      for (let r = 0; r < count; r += 7) {
        const ahead = Math.min(count - 1, r + 16);
        expect(rowOf(w, ahead)).toEqual(want(ahead));
        expect(rowOf(w, r)).toEqual(want(r));
      }
      expect(rowOf(w, 0)).toEqual(want(0));
      expect(rowOf(w, count - 1)).toEqual(want(count - 1));
    });

    test(`EsPatternWalk and CbcsEsWalk give the same pieces over encoded runs as over the array: ${count} runs`, () => {
      for (const scheme of [SLICE_BLOCK, CBCS]) {
        const { whole, encoded } = header(count, count + 2, scheme);
        const pieces = (walk: { fill(p: Float64Array, f: Uint8Array): number }) => {
          const out: number[] = [];
          const p = new Float64Array(2 * 1000);
          const f = new Uint8Array(1000);
          for (let n = walk.fill(p, f); n > 0; n = walk.fill(p, f))
            out.push(...p.subarray(0, 2 * n), ...f.subarray(0, n));
          return out;
        };
        const make = (plan: typeof whole | typeof encoded) => {
          if (scheme.kind === "cbcs") return new CbcsEsWalk({ ...plan, scheme: CBCS });
          const walk = new EsPatternWalk(plan);
          return { fill: (p: Float64Array) => walk.fill(p) };
        };
        const a = pieces(make(whole));
        expect(a.length).toBeGreaterThan(0);
        expect(pieces(make(encoded))).toEqual(a);
      }
    });
  }

  for (const count of COUNTS) {
    for (const scheme of [SLICE_BLOCK, CBCS]) {
      test(`encodedRunsOfHeaderV3() gives the run varints decodePatternHeaderV3() reads: ${scheme.kind}, ${count} runs`, () => {
        const { plan, bytes, encoded } = header(count, count + 3, scheme);
        const runs = encodedRunsOfHeaderV3(bytes, plan);
        expect(runs.count).toBe(count);
        expect(runs.bytes).toEqual(encoded.runs.bytes);
        // A copy: the header may go once sent while the walk still reads its runs.
        expect(runs.bytes.buffer).not.toBe(bytes.buffer);
      });

      test(`the sender's cipher over its header's run varints encrypts as over the Float64Array: ${scheme.kind}, ${count} runs`, async () => {
        const { plan, bytes, bodyLength } = header(count, count + 4, scheme);
        const overArray = await encrypt(plan, { bodyLength, seed: count });
        const overVarints = await encrypt(
          { ...plan, runs: encodedRunsOfHeaderV3(bytes, plan) },
          { bodyLength, seed: count },
        );
        expect(overArray).not.toEqual(new SeededRandom(count).bytes(bodyLength));
        expect(overVarints).toEqual(overArray);
      });
    }
  }

  test("encodedRunsOfHeaderV3() rejects a header too short to hold the slices with a RangeError", () => {
    const { plan, bytes } = header(31, 7, SLICE_BLOCK);
    expect(() => encodedRunsOfHeaderV3(bytes.subarray(0, 100), plan)).toThrow(RangeError);
  });

  const damaged: Array<[string, (e: HeldRuns) => HeldRuns]> = [
    ["runs cut inside a number", (e) => ({ bytes: e.bytes.subarray(0, e.bytes.length - 1), count: e.count })],
    [
      "fewer runs' bytes than the count",
      (e) => ({ bytes: e.bytes.subarray(0, e.bytes.length >> 1), count: e.count }),
    ],
    ["a number past 8 bytes", (e) => ({ bytes: new Uint8Array(e.bytes.length).fill(0xff), count: e.count })],
  ];
  for (const [name, damage] of damaged) {
    test(`RunWindow.encoded() rejects ${name} with ERR_PATTERN_RANGES at the run, not a hang`, () => {
      const { encoded } = header(5000, 9, SLICE_BLOCK);
      const w = RunWindow.encoded(damage(encoded.runs));
      expect(
        codecErrorCode(() => {
          for (let i = 0; i < 5000; i++) w.at(i);
        }),
      ).toBe("ERR_PATTERN_RANGES");
    });
  }

  const outside: Array<[string, number]> = [
    ["the run count", 5000],
    ["-1", -1],
  ];
  for (const [name, i] of outside) {
    test(`RunWindow.at() rejects run ${name} with a RangeError`, () => {
      const { whole, encoded } = header(5000, 10, SLICE_BLOCK);
      expect(() => RunWindow.encoded(encoded.runs).at(i)).toThrow(RangeError);
      expect(() => RunWindow.whole(whole.runs, 5000).at(i)).toThrow(RangeError);
    });
  }
});
