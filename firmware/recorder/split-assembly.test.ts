/** @module Tests for SplitAssembly: parts merged in any arrival order, damage detected, feeders stopped on failure. */
import { afterAll, describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { splitBytes } from "../../codec/split/split-bytes.ts";
import { IncomingFile } from "./incoming-file.ts";
import { SplitAssembly } from "./split-assembly.ts";

const dir = mkdtempSync(join(tmpdir(), "pvrlink-assembly-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;

const original = new Uint8Array(50_000).map((_, i) => (i * 31 + (i >> 8)) & 0xff);
const parts = splitBytes(
  original,
  [
    { offset: 100, length: 900 },
    { offset: 20_000, length: 5000 },
  ],
  "es",
);

async function* chunks(b: Uint8Array, size: number, gate?: () => Promise<void>) {
  for (let at = 0; at < b.length; at += size) {
    await gate?.();
    yield b.slice(at, at + size);
  }
}

async function run(p: Uint8Array, d: Uint8Array, sizes: [number, number]) {
  const out = await IncomingFile.create(join(dir, `f${++n}.part`));
  const a = new SplitAssembly(out);
  const results = await Promise.allSettled([
    a.feed("protected", chunks(p, sizes[0])),
    a.feed("direct", chunks(d, sizes[1])),
    a.finished,
  ]);
  return { out, a, results };
}

describe("SplitAssembly", () => {
  const sizes: Array<[number, number]> = [
    [1, 7],
    [333, 4096],
    [100_000, 100_000],
    [50_000, 17],
  ];
  for (const s of sizes) {
    test(`SplitAssembly merges byte-exact with chunks of ${s[0]} and ${s[1]} bytes`, async () => {
      const { out, results } = await run(parts.protected, parts.direct, s);
      expect(results.map((r) => r.status)).toEqual(["fulfilled", "fulfilled", "fulfilled"]);
      const sha = await out.finish();
      expect(sha).toBe(createHash("sha256").update(original).digest("hex"));
      expect(new Uint8Array(readFileSync(out.path))).toEqual(original);
    });
  }

  for (const s of sizes) {
    test(`SplitAssembly releases direct chunks of ${s[1]} bytes only once merged and written (protected ${s[0]})`, async () => {
      const out = await IncomingFile.create(join(dir, `f${++n}.part`));
      const a = new SplitAssembly(out);
      let released = 0;
      // Detaching the buffer empties every view of it: a chunk released while the merger or a queued write still
      // held a view of it would leave a hole in the file.
      const release = (c: Uint8Array) => {
        (c.buffer as ArrayBuffer).transfer(0);
        released++;
      };
      const results = await Promise.allSettled([
        a.feed("protected", chunks(parts.protected, s[0])),
        a.feed("direct", chunks(parts.direct, s[1]), { release }),
        a.finished,
      ]);
      expect(results.map((r) => r.status)).toEqual(["fulfilled", "fulfilled", "fulfilled"]);
      await out.finish();
      expect(new Uint8Array(readFileSync(out.path))).toEqual(original);
      expect(released).toBeGreaterThan(0);
    });
  }

  // The pacer counts only bytes whose memory nobody freed by hand: the part fed without `release`, and the chunks
  // `release` reports it did not free.
  for (const freed of [true, false]) {
    test(`SplitAssembly paces collections by the unfreed bytes only (release frees: ${freed})`, async () => {
      const out = await IncomingFile.create(join(dir, `f${++n}.part`), { paced: false });
      let collections = 0;
      const a = new SplitAssembly(out, undefined, { everyBytes: 1000, collect: () => collections++ });
      const results = await Promise.allSettled([
        // Chunks of the pacer's step: each whole chunk counted is one collection.
        a.feed("protected", chunks(parts.protected, 1000)),
        a.feed("direct", chunks(parts.direct, 1000), { release: () => freed }),
        a.finished,
      ]);
      expect(results.map((r) => r.status)).toEqual(["fulfilled", "fulfilled", "fulfilled"]);
      await out.finish();
      expect(new Uint8Array(readFileSync(out.path))).toEqual(original);
      const relayOnly = Math.floor(parts.protected.length / 1000);
      // Unfreed, every direct chunk counts but the last (partial, or still held when the feed ends).
      const expected = freed ? relayOnly : relayOnly + Math.floor(parts.direct.length / 1000) - 1;
      expect(collections).toBeGreaterThanOrEqual(expected);
      expect(collections).toBeLessThanOrEqual(freed ? relayOnly : expected + 1);
    });
  }

  test("SplitAssembly.sha256 is the merger's checked digest once finished, and an IncomingFile can take it", async () => {
    let a: SplitAssembly | undefined;
    const out = await IncomingFile.create(join(dir, `f${++n}.part`), { digestOf: () => a?.sha256 ?? "" });
    a = new SplitAssembly(out);
    expect(() => a?.sha256).toThrow(RangeError);
    await Promise.all([
      a.feed("protected", chunks(parts.protected, 999)),
      a.feed("direct", chunks(parts.direct, 4096)),
    ]);
    await a.finished;
    const expected = createHash("sha256").update(original).digest("hex");
    expect(a.sha256).toBe(expected);
    expect(await out.finish()).toBe(expected);
    expect(new Uint8Array(readFileSync(out.path))).toEqual(original);
  });

  const damage: Array<[string, () => [Uint8Array, Uint8Array], string]> = [
    [
      "a truncated direct part",
      () => [parts.protected, parts.direct.subarray(0, parts.direct.length - 10)],
      "ERR_SPLIT_TRUNCATED",
    ],
    [
      "a flipped body byte",
      () => {
        const d = new Uint8Array(parts.direct);
        d[d.length - 5]! ^= 0x20;
        return [parts.protected, d];
      },
      "ERR_SPLIT_INTEGRITY",
    ],
    [
      "a flipped header byte",
      () => {
        const p = new Uint8Array(parts.protected);
        p[20]! ^= 1;
        return [p, parts.direct];
      },
      "ERR_SPLIT_HEADER_DIGEST",
    ],
    ["two protected parts", () => [parts.protected, parts.protected], "ERR_SPLIT_PAIR"],
  ];
  for (const [name, make, code] of damage) {
    test(`SplitAssembly rejects ${name} (${code}) and discard() leaves no file`, async () => {
      const [p, d] = make();
      const { out, results } = await run(p, d, [4096, 4096]);
      const reason = (results[2] as PromiseRejectedResult).reason as { code: string };
      expect(results[2]!.status).toBe("rejected");
      expect(reason.code).toBe(code);
      await out.discard();
      expect(existsSync(out.path)).toBe(false);
    });
  }

  test("SplitAssembly fail() stops a feeder that is waiting for its source", async () => {
    const out = await IncomingFile.create(join(dir, `f${++n}.part`));
    const a = new SplitAssembly(out);
    let release!: () => void;
    const stuck = new Promise<void>((r) => {
      release = r;
    });
    const feeding = a.feed(
      "direct",
      chunks(parts.direct, 1000, () => stuck),
    );
    a.fail(new Error("session ended"));
    release();
    await expect(feeding).rejects.toThrow("session ended");
    await expect(a.finished).rejects.toThrow("session ended");
    await out.discard();
  });
});
