/** @module Tests of CbcsEsWalk: its blocks and chains against a block-by-block reference on random plans, and a hostile plan that must not spin. */
import { describe, expect, test } from "bun:test";
import { createSecretKey } from "node:crypto";
import { cbcsTransform } from "../../crypto/cbcs-cipher.ts";
import { SeededRandom } from "../../test/support/seeded-random.ts";
import { cbcsSliceBlocks } from "../container/cbcs-slice-blocks.ts";
import { concat } from "../split/split-bytes.ts";
import { CbcsEsCipher } from "./cbcs-es-cipher.ts";
import {
  CBCS_CHAIN_START,
  CBCS_FIRST_PIECE,
  type CbcsEsPlan,
  CbcsEsWalk,
  cbcsEsEncryptedBytes,
} from "./cbcs-es-walk.ts";
import { CbcsPatternCipher } from "./cbcs-pattern-cipher.ts";
import { RUN_FIELDS } from "./es-pattern-plan.ts";
import { PatternRangeTable } from "./pattern-range-table.ts";

/** A random plan: slice spans over ~6000 ES bytes, runs of units with gaps in the ES (sealed) and in the body. */
function randomPlan(seed: number, tail = true): CbcsEsPlan & { bodyLength: number } {
  const rand = new SeededRandom(seed);
  const slices = new PatternRangeTable();
  for (let at = rand.below(40); at < 6000; ) {
    const length = 1 + rand.below(rand.below(4) === 0 ? 40 : 600);
    slices.push(at, length);
    at += length + rand.below(30);
  }
  const runs: number[] = [];
  let es = rand.below(20);
  let body = rand.below(20);
  while (es < 6500) {
    const l = 1 + rand.below(rand.below(3) === 0 ? 8 : 200);
    const stride = l + (rand.below(2) === 0 ? 0 : rand.below(20));
    const count = 1 + rand.below(8);
    runs.push(es, l, body, stride, count);
    es += l * count + (rand.below(4) === 0 ? 1 + rand.below(300) : 0);
    body += stride * (count - 1) + l + rand.below(10);
  }
  const scheme = { kind: "cbcs" as const, crypt: 1 + rand.below(2), skip: rand.below(10), tail };
  return {
    scheme,
    slices,
    runs: new Float64Array(runs),
    runCount: runs.length / RUN_FIELDS,
    bodyLength: body,
  };
}

/** Block by block: cbcsSliceBlocks() per slice, each byte through the runs, a block with an uncarried byte dropped. */
function reference(plan: CbcsEsPlan): { bytes: number[]; chains: boolean[] } {
  const runs = plan.runs;
  const toBody = (x: number): number => {
    for (let r = 0; r < plan.runCount; r++) {
      const [es, l, body, stride, count] = (runs as Float64Array).subarray(
        RUN_FIELDS * r,
        RUN_FIELDS * (r + 1),
      );
      if (x >= es! && x < es! + l! * count!) {
        const k = Math.floor((x - es!) / l!);
        return body! + k * stride! + (x - es! - k * l!);
      }
    }
    return -1;
  };
  const bytes: number[] = [];
  const chains: boolean[] = [];
  let fresh = true;
  for (const { offset, length } of plan.slices.toArray()) {
    cbcsSliceBlocks(offset, offset + length, plan.scheme, (at, chainStart) => {
      if (chainStart) fresh = true;
      const mapped = Array.from({ length: 16 }, (_, k) => toBody(at + k));
      if (mapped.includes(-1)) return;
      bytes.push(...mapped);
      chains.push(fresh);
      fresh = false;
    });
  }
  return { bytes, chains };
}

/** The walk's blocks as body byte offsets and chain flags, filled in batches of `rows` pieces. */
function walked(plan: CbcsEsPlan, rows: number): { bytes: number[]; chains: boolean[] } {
  const walk = new CbcsEsWalk(plan);
  const pieces = new Float64Array(2 * rows);
  const flags = new Uint8Array(rows);
  const bytes: number[] = [];
  const chains: boolean[] = [];
  for (let n = walk.fill(pieces, flags); n > 0; n = walk.fill(pieces, flags)) {
    for (let i = 0; i < n; i++) {
      if (flags[i]! & CBCS_FIRST_PIECE) chains.push((flags[i]! & CBCS_CHAIN_START) !== 0);
      for (let k = 0; k < pieces[2 * i + 1]!; k++) bytes.push(pieces[2 * i]! + k);
    }
  }
  return { bytes, chains };
}

describe("CbcsEsWalk", () => {
  test("CbcsEsWalk gives the reference's blocks and chains on random plans, in any batch size", () => {
    for (let seed = 1; seed <= 60; seed++) {
      const plan = randomPlan(seed, seed % 4 !== 0);
      const want = reference(plan);
      expect(want.bytes.length).toBeGreaterThan(0);
      for (const rows of [16, 17, 100, 4096]) {
        const got = walked(plan, rows);
        expect({ seed, rows, ...got }).toEqual({ seed, rows, ...want });
      }
      expect(cbcsEsEncryptedBytes(plan)).toBe(want.bytes.length);
    }
  });

  test("CbcsEsCipher encrypts as CbcsPatternCipher does with the reference's blocks, for every chunking, pushed one by one or many at once", () => {
    const key = createSecretKey(new Uint8Array(16).map((_, i) => i + 1));
    const iv = new Uint8Array(16).map((_, i) => 0xf0 - i);
    for (let seed = 1; seed <= 20; seed++) {
      const plan = randomPlan(seed);
      const want = reference(plan);
      const ranges = new PatternRangeTable();
      for (const b of want.bytes) ranges.push(b, 1);
      const chainStarts = want.chains.flatMap((c, i) => (c ? [i] : []));
      const data = new SeededRandom(seed + 1000).bytes(plan.bodyLength);
      const v2 = new CbcsPatternCipher(
        { ranges, chainStarts },
        data.length,
        cbcsTransform(key, iv, "encrypt"),
      );
      const expected = concat(v2.push(data.slice()));
      v2.finish();
      const encryptedBytes = want.bytes.length;
      const c = new CbcsEsCipher({ ...plan, encryptedBytes }, data.length, cbcsTransform(key, iv, "encrypt"));
      const out: Uint8Array[] = [];
      for (const piece of new SeededRandom(seed).chunks(data.slice())) out.push(...c.push(piece));
      c.finish();
      expect(concat(out)).toEqual(expected);
      const d = new CbcsEsCipher({ ...plan, encryptedBytes }, data.length, cbcsTransform(key, iv, "decrypt"));
      const back: Uint8Array[] = [];
      for (const piece of new SeededRandom(seed + 7).chunks(expected.slice())) back.push(...d.push(piece));
      d.finish();
      expect(concat(back)).toEqual(data);
      // pushMany(): the same chunks in random groups (a read's direct pieces), one batch per group.
      const m = new CbcsEsCipher({ ...plan, encryptedBytes }, data.length, cbcsTransform(key, iv, "encrypt"));
      const chunks = new SeededRandom(seed + 3).chunks(data.slice());
      const grouped: Uint8Array[] = [];
      const groups = new SeededRandom(seed + 5);
      for (let at = 0; at < chunks.length; ) {
        const n = 1 + groups.below(40);
        grouped.push(...m.pushMany(chunks.slice(at, at + n)));
        at += n;
      }
      m.finish();
      expect(concat(grouped)).toEqual(expected);
    }
  });

  test("CbcsEsCipher.finish() rejects a body that ends early, and a plan claiming other encrypted bytes", () => {
    const plan = randomPlan(3);
    const encryptedBytes = cbcsEsEncryptedBytes(plan);
    const cipher = () => cbcsTransform(createSecretKey(new Uint8Array(16)), new Uint8Array(16), "encrypt");
    const short = new CbcsEsCipher({ ...plan, encryptedBytes }, plan.bodyLength, cipher());
    short.push(new Uint8Array(plan.bodyLength - 1));
    expect(() => short.finish()).toThrow(expect.objectContaining({ code: "ERR_PATTERN_LENGTH" }));
    const lying = new CbcsEsCipher(
      { ...plan, encryptedBytes: encryptedBytes + 16 },
      plan.bodyLength,
      cipher(),
    );
    lying.push(new Uint8Array(plan.bodyLength));
    expect(() => lying.finish()).toThrow(expect.objectContaining({ code: "ERR_PATTERN_LENGTH" }));
  });

  test("CbcsEsWalk jumps ES bytes no run carries: a 2^40-byte slice with one run near its end ends at once", () => {
    const slices = new PatternRangeTable();
    slices.push(0, 2 ** 40);
    slices.push(2 ** 41, 2 ** 40);
    const plan: CbcsEsPlan = {
      scheme: { kind: "cbcs", crypt: 1, skip: 9 },
      slices,
      runs: new Float64Array([2 ** 40 - 1000, 500, 0, 500, 1]),
      runCount: 1,
    };
    // The rule blocks (every 160th from 0) wholly inside the 500 carried bytes; the second slice has none.
    const start = 2 ** 40 - 1000;
    let want = 0;
    for (let at = Math.ceil(start / 160) * 160; at + 16 <= start + 500; at += 160) want++;
    expect(want).toBe(3);
    expect(cbcsEsEncryptedBytes(plan)).toBe(16 * want);
  });
});
