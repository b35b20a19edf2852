/** @module Tests of SpilledPatternHeader: a version 3/4 header streamed into a spill decodes to the same plan as decodePatternHeaderV3() (slices and runs read back forward, a block or window at a time), with the same errors on damage, and a spill that fails to read back fails the decode. */
import { describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { makePatternKeystream } from "../../crypto/keystream.ts";
import { codecErrorCode, resealSha256 } from "../../test/support/header-corruption.ts";
import { SeededRandom } from "../../test/support/seeded-random.ts";
import { tsLikeRuns } from "../../test/support/ts-like-runs.ts";
import { CbcsEsWalk, cbcsEsEncryptedBytes } from "./cbcs-es-walk.ts";
import { EsPatternCipher } from "./es-pattern-cipher.ts";
import { type EsPatternPlan, esPatternEncryptedBytes } from "./es-pattern-plan.ts";
import type { HeaderSpill } from "./header-spill.ts";
import { PATTERN_FIXED_BYTES } from "./pattern-header.ts";
import { decodePatternHeaderV3, encodePatternHeaderV3 } from "./pattern-header-v3.ts";
import { PatternRangeTable, RANGE_BLOCK_BYTES } from "./pattern-range-table.ts";
import { RUN_FIELDS, RunWindow } from "./run-window.ts";
import { SpilledPatternHeader } from "./spilled-pattern-header.ts";

const SLICE_BLOCK: EsPatternPlan["scheme"] = { kind: "slice-block", crypt: 1, skip: 9 };
const CBCS: EsPatternPlan["scheme"] = { kind: "cbcs", crypt: 1, skip: 9, tail: false };

/** A spill in memory, as the receiver's temp file keeps it: appends, reads back, notes the largest read. */
class MemorySpill implements HeaderSpill {
  #bytes = new Uint8Array(1024);
  length = 0;
  largestRead = 0;
  closed = false;
  failReadsFrom = Number.POSITIVE_INFINITY;
  write(bytes: Uint8Array): void {
    if (this.length + bytes.length > this.#bytes.length) {
      const grown = new Uint8Array(2 * (this.length + bytes.length));
      grown.set(this.#bytes.subarray(0, this.length));
      this.#bytes = grown;
    }
    this.#bytes.set(bytes, this.length);
    this.length += bytes.length;
  }
  read(position: number, into: Uint8Array): void {
    if (position + into.length > this.failReadsFrom) throw new RangeError("Cannot read the spill: it broke");
    if (position + into.length > this.length) throw new RangeError("Cannot read the spill: it ends early");
    this.largestRead = Math.max(this.largestRead, into.length);
    into.set(this.#bytes.subarray(position, position + into.length));
  }
  close(): void {
    this.closed = true;
  }
}

/** TS-like runs and `density`-spaced slices over their ES, as a header (run-window.test.ts's, denser on demand). */
function header(count: number, o: { seed: number; scheme: EsPatternPlan["scheme"]; sliceStep: number }) {
  const rnd = new SeededRandom(o.seed);
  const { runs, esEnd: es, bodyEnd: body } = tsLikeRuns(count, rnd);
  const slices = new PatternRangeTable();
  for (let at = 3; at + 40 < es; at += o.sliceStep + rnd.below(o.sliceStep))
    slices.push(at, 1 + rnd.below(o.sliceStep));
  const plan: EsPatternPlan = { scheme: o.scheme, slices, runs, runCount: count, encryptedBytes: 0 };
  plan.encryptedBytes =
    o.scheme.kind === "cbcs"
      ? cbcsEsEncryptedBytes({ ...plan, scheme: o.scheme })
      : esPatternEncryptedBytes(plan);
  const bytes = encodePatternHeaderV3({
    plan,
    salt: new Uint8Array(16).fill(9),
    originalSha256: createHash("sha256").update("x").digest(),
    directBodyLength: body + 100,
  });
  return { plan, bytes, bodyLength: body + 100 };
}

/** `bytes` pushed into a new SpilledPatternHeader in seeded chunks (the first 20 bytes first, as the decoder does). */
function spilled(bytes: Uint8Array, seed: number, spill = new MemorySpill()) {
  const h = new SpilledPatternHeader(spill, new DataView(bytes.buffer, bytes.byteOffset).getUint32(16));
  let at = h.push(bytes.subarray(0, 20));
  for (const c of new SeededRandom(seed).chunks(bytes.subarray(20))) at += h.push(c);
  return { h, spill, at };
}

function rows(table: PatternRangeTable): Float64Array {
  const out = new Float64Array(2 * table.count);
  for (let i = 0; i < table.count; ) i += table.readRows(i, out.subarray(2 * i, 2 * i + 2048));
  return out;
}

describe("SpilledPatternHeader", () => {
  const cases: Array<[string, Parameters<typeof header>]> = [
    ["a small slice-block header", [40, { seed: 1, scheme: SLICE_BLOCK, sliceStep: 700 }]],
    ["a small cbcs header (version 4, no tail)", [40, { seed: 2, scheme: CBCS, sliceStep: 700 }]],
    ["no runs and no slices", [0, { seed: 3, scheme: SLICE_BLOCK, sliceStep: 700 }]],
    // ~1.4 M slices: their table is several 1 MiB blocks and ~170 checkpoints, the runs many 64 KiB windows.
    ["slices over several 1 MiB blocks", [30000, { seed: 4, scheme: SLICE_BLOCK, sliceStep: 3 }]],
  ];
  for (const [name, args] of cases) {
    test(`decode() gives decodePatternHeaderV3()'s plan, read back in windows: ${name}`, () => {
      const { bytes, bodyLength } = header(...args);
      const { h, spill, at } = spilled(bytes, 5);
      expect(at).toBe(bytes.length);
      expect(h.complete).toBe(true);
      const want = decodePatternHeaderV3(bytes);
      const got = h.decode();
      expect(got.headerLength).toBe(bytes.length);
      expect(got.directBodyLength).toBe(bodyLength);
      expect(got.salt).toEqual(want.salt);
      expect(got.originalSha256).toEqual(want.originalSha256);
      expect(got.plan.scheme).toEqual(want.plan.scheme);
      expect(got.plan.encryptedBytes).toBe(want.plan.encryptedBytes);
      expect(got.plan.runCount).toBe(want.plan.runCount);
      expect(got.plan.slices.count).toBe(want.plan.slices.count);
      expect(got.plan.slices.end()).toBe(want.plan.slices.end());
      expect(rows(got.plan.slices)).toEqual(rows(want.plan.slices));
      const window = RunWindow.over(got.plan.runs, got.plan.runCount);
      for (let i = 0; i < got.plan.runCount; i++) {
        const a = window.at(i);
        expect(Array.from(window.rows.subarray(a, a + RUN_FIELDS))).toEqual(
          Array.from(want.plan.runs.subarray(RUN_FIELDS * i, RUN_FIELDS * i + RUN_FIELDS)),
        );
      }
      // Random access to a slice (a checkpoint, then forward) reads the same.
      const mid = want.plan.slices.count >> 1;
      if (mid > 0) expect(got.plan.slices.offsetAt(mid)).toBe(want.plan.slices.offsetAt(mid));
      expect(spill.largestRead).toBeLessThanOrEqual(RANGE_BLOCK_BYTES);
      if (name.includes("several")) {
        expect(got.plan.slices.encodedBytes).toBeGreaterThan(2 * RANGE_BLOCK_BYTES);
        expect(spill.largestRead).toBeGreaterThan(RANGE_BLOCK_BYTES / 2);
      }
    });
  }

  test("decode() of a spilled header encrypts a body as the sender's plan does (slice-block, several blocks)", async () => {
    const { plan, bytes, bodyLength } = header(30000, { seed: 6, scheme: SLICE_BLOCK, sliceStep: 3 });
    const ks = await makePatternKeystream(new Uint8Array(32).fill(1), new Uint8Array(16).fill(2));
    const body = new SeededRandom(7).bytes(bodyLength);
    const a = body.slice();
    const b = body.slice();
    const sender = new EsPatternCipher(plan, bodyLength, ks);
    for (const c of new SeededRandom(8).chunks(a)) sender.apply(c);
    sender.finish();
    const receiver = new EsPatternCipher(spilled(bytes, 9).h.decode().plan, bodyLength, ks);
    for (const c of new SeededRandom(10).chunks(b)) receiver.apply(c);
    receiver.finish();
    expect(Buffer.from(b).equals(Buffer.from(a))).toBe(true);
    expect(Buffer.from(a).equals(Buffer.from(body))).toBe(false);
  });

  test("decode() of a spilled version 4 header gives the cbcs walk the sender's blocks", () => {
    const { plan, bytes } = header(3000, { seed: 11, scheme: CBCS, sliceStep: 40 });
    const got = spilled(bytes, 12).h.decode().plan;
    const scheme = { ...CBCS, kind: "cbcs" as const, crypt: 1, skip: 9 };
    const take = (w: CbcsEsWalk) => {
      const pieces = new Float64Array(2048);
      const flags = new Uint8Array(1024);
      const all: number[] = [];
      for (let n = w.fill(pieces, flags); n > 0; n = w.fill(pieces, flags))
        all.push(...pieces.subarray(0, 2 * n));
      return all;
    };
    const want = take(new CbcsEsWalk({ ...plan, scheme }));
    expect(want.length).toBeGreaterThan(0);
    expect(take(new CbcsEsWalk({ ...got, scheme }))).toEqual(want);
  });

  const damages: Array<[string, (b: Uint8Array) => Uint8Array]> = [
    ["a flipped table byte (digest)", (b) => b.map((x, i) => (i === PATTERN_FIXED_BYTES + 3 ? x ^ 1 : x))],
    ["a flipped digest byte", (b) => b.map((x, i) => (i === b.length - 1 ? x ^ 0x80 : x))],
    ["a slice count past the table, resealed", (b) => resealSha256(withU32(b, 76, 0xffffff), 32)],
    ["a run count past the table, resealed", (b) => resealSha256(runCountTooLarge(b), 32)],
    ["a slice of length 0, resealed", (b) => resealSha256(firstSliceEmpty(b), 32)],
    ["an unknown version-4 flag, resealed", (b) => resealSha256(withU16(b, 14, 2), 32)],
    ["more encrypted bytes than the body, resealed", (b) => resealSha256(withU64(b, 80, 2 ** 40), 32)],
  ];
  for (const [name, damage] of damages) {
    test(`decode() rejects ${name} with decodePatternHeaderV3()'s code`, () => {
      const { bytes } = header(40, { seed: 13, scheme: SLICE_BLOCK, sliceStep: 700 });
      const bad = damage(bytes.slice());
      const want = codecErrorCode(() => decodePatternHeaderV3(bad));
      expect(want).toMatch(/^ERR_PATTERN_/);
      expect(codecErrorCode(() => spilled(bad, 14).h.decode())).toBe(want);
    });
  }

  test("decode() rejects a truncated header with ERR_PATTERN_TRUNCATED", () => {
    const { bytes } = header(40, { seed: 15, scheme: SLICE_BLOCK, sliceStep: 700 });
    const h = new SpilledPatternHeader(new MemorySpill(), bytes.length);
    expect(h.push(bytes.subarray(0, bytes.length - 1))).toBe(bytes.length - 1);
    expect(h.complete).toBe(false);
    expect(codecErrorCode(() => h.decode())).toBe("ERR_PATTERN_TRUNCATED");
  });

  test("push() takes no byte past the header's end (the body's first bytes are the caller's)", () => {
    const { bytes } = header(40, { seed: 16, scheme: SLICE_BLOCK, sliceStep: 700 });
    const spill = new MemorySpill();
    const h = new SpilledPatternHeader(spill, bytes.length);
    const withBody = new Uint8Array(bytes.length + 50);
    withBody.set(bytes);
    expect(h.push(withBody)).toBe(bytes.length);
    expect(h.push(new Uint8Array(10))).toBe(0);
    expect(spill.length).toBe(bytes.length);
  });

  const readFailures: Array<[string, (length: number) => number]> = [
    ["its fixed head", () => 10],
    ["the slices", () => PATTERN_FIXED_BYTES + 50],
    ["the runs (while the walk reads them)", (length) => length - 40],
  ];
  for (const [name, from] of readFailures) {
    test(`a spill read error in ${name} fails with the spill's error`, () => {
      const { bytes, bodyLength } = header(3000, { seed: 17, scheme: SLICE_BLOCK, sliceStep: 40 });
      const spill = new MemorySpill();
      const { h } = spilled(bytes, 18, spill);
      spill.failReadsFrom = from(bytes.length);
      expect(() => {
        const plan = h.decode().plan;
        const walk = new EsPatternCipher(plan, bodyLength, () => new Uint8Array(1 << 16));
        walk.apply(new Uint8Array(bodyLength));
      }).toThrow("Cannot read the spill: it broke");
    });
  }
});

function withU32(b: Uint8Array, at: number, v: number): Uint8Array {
  new DataView(b.buffer, b.byteOffset).setUint32(at, v);
  return b;
}
function withU16(b: Uint8Array, at: number, v: number): Uint8Array {
  new DataView(b.buffer, b.byteOffset).setUint16(at, v);
  return b;
}
function withU64(b: Uint8Array, at: number, v: number): Uint8Array {
  new DataView(b.buffer, b.byteOffset).setBigUint64(at, BigInt(v));
  return b;
}
/** The run count is the varint after the slices: found by decoding them (a small header has no long varints). */
function runCountTooLarge(b: Uint8Array): Uint8Array {
  const at = runsAt(b);
  b[at] = 0x7f;
  return b;
}
function firstSliceEmpty(b: Uint8Array): Uint8Array {
  // Slice 0's gap then its length: both one byte in a small header? Its length is at the second varint.
  let at = PATTERN_FIXED_BYTES;
  while (b[at]! & 0x80) at++;
  at++;
  b[at] = 0;
  return b;
}
function runsAt(b: Uint8Array): number {
  const count = new DataView(b.buffer, b.byteOffset).getUint32(76);
  let at = PATTERN_FIXED_BYTES;
  for (let i = 0; i < 2 * count; i++) {
    while (b[at]! & 0x80) at++;
    at++;
  }
  return at;
}
