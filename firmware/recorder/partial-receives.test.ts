/** @module Tests of PartialReceives: kept 0600 by key, taken back truncated to what was fsynced, never under another key, expiring, and damaged records refused without a crash. */
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type PartialKey, PartialReceives, partialShape } from "./partial-receives.ts";

const SHA = "ab".repeat(32);
const KEY: PartialKey = {
  caller: "dev_alice",
  sha256: SHA,
  shape: partialShape({ kind: "data", size: 100, protection: "sealed" }),
};

let dir: string;
let now: number;
let store: PartialReceives;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "partials-"));
  now = 1_000_000;
  store = new PartialReceives(dir, { holdMs: 60_000, now: () => now });
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** Keeps `bytes` under `key` as if a receive had written them to an incoming file. */
async function keep(key: PartialKey, bytes: Uint8Array, held = bytes.length) {
  const path = join(dir, `incoming-${Math.random()}.part`);
  writeFileSync(path, bytes);
  return store.keep(key, { name: "r.bin", path, held });
}

const recordPath = () => {
  const name = readdirSync(store.dir).find((n) => n.endsWith(".json"));
  return join(store.dir, name ?? "missing");
};

describe("PartialReceives", () => {
  test("keep() writes the bytes and a 0600 record whose name says nothing of the key", async () => {
    await keep(KEY, new Uint8Array(40).fill(7));
    const names = readdirSync(store.dir).sort();
    expect(names).toHaveLength(2);
    for (const n of names) {
      expect(n).toMatch(/^[0-9a-f]{40}\.(json|part)$/);
      expect(statSync(join(store.dir, n)).mode & 0o777).toBe(0o600);
    }
    expect(statSync(store.dir).mode & 0o777).toBe(0o700);
    expect(JSON.parse(readFileSync(recordPath(), "utf8"))).toMatchObject({
      ...KEY,
      held: 40,
      expiresAt: now + 60_000,
    });
  });

  test("take() moves the bytes back truncated to the held count and forgets the record", async () => {
    const bytes = new Uint8Array(50).map((_, i) => i);
    // More on disk than the record counts: bytes past the fsynced count are not trusted.
    await keep(KEY, bytes, 30);
    const into = join(dir, "back.part");
    expect(await store.take(KEY, into)).toEqual({ path: into, held: 30 });
    expect(new Uint8Array(readFileSync(into))).toEqual(bytes.subarray(0, 30));
    expect(readdirSync(store.dir)).toEqual([]);
    expect(await store.take(KEY, join(dir, "again.part"))).toBeUndefined();
  });

  const others: Array<[string, PartialKey]> = [
    ["another caller", { ...KEY, caller: "dev_mallory" }],
    ["another recording", { ...KEY, sha256: "cd".repeat(32) }],
    ["another shape", { ...KEY, shape: partialShape({ kind: "data", size: 100, protection: "seed" }) }],
  ];
  for (const [what, other] of others)
    test(`take() under ${what} finds nothing and leaves the partial alone`, async () => {
      await keep(KEY, new Uint8Array(20));
      expect(await store.take(other, join(dir, "x.part"))).toBeUndefined();
      expect(store.read(KEY)?.held).toBe(20);
    });

  test("an expired partial is not taken, and sweep() removes it with its bytes", async () => {
    await keep(KEY, new Uint8Array(20));
    now += 60_000;
    expect(store.read(KEY)).toBeUndefined();
    expect(await store.sweep()).toBe(1);
    expect(readdirSync(store.dir)).toEqual([]);
  });

  test("sweep() keeps a live partial and removes bytes left without a record", async () => {
    await keep(KEY, new Uint8Array(20));
    writeFileSync(join(store.dir, `${"e".repeat(40)}.part`), "orphan");
    expect(await store.sweep()).toBe(1);
    expect(store.read(KEY)?.held).toBe(20);
  });

  test("take() of a partial whose bytes are shorter than the record drops it", async () => {
    await keep(KEY, new Uint8Array(20));
    const data = recordPath().replace(/\.json$/, ".part");
    writeFileSync(data, new Uint8Array(5));
    expect(await store.take(KEY, join(dir, "x.part"))).toBeUndefined();
    expect(readdirSync(store.dir)).toEqual([]);
  });

  const damages: Array<[string, (r: Record<string, unknown>) => unknown]> = [
    ["invalid JSON", () => "{not json"],
    ["a JSON array", () => []],
    ["an unknown version", (r) => ({ ...r, version: 2 })],
    ["a negative held count", (r) => ({ ...r, held: -1 })],
    ["a fractional held count", (r) => ({ ...r, held: 1.5 })],
    ["a held count that is a string", (r) => ({ ...r, held: "20" })],
    ["a sha256 that is not hex", (r) => ({ ...r, sha256: "zz" })],
    ["another caller's fields under this key's name", (r) => ({ ...r, caller: "dev_mallory" })],
    ["no expiry", (r) => ({ ...r, expiresAt: undefined })],
  ];
  for (const [what, damage] of damages)
    test(`take() refuses a record with ${what} as ERR_PARTIAL_DAMAGED and drops it`, async () => {
      await keep(KEY, new Uint8Array(20));
      const path = recordPath();
      const d = damage(JSON.parse(readFileSync(path, "utf8")));
      writeFileSync(path, typeof d === "string" ? d : JSON.stringify(d));
      await expect(store.take(KEY, join(dir, "x.part"))).rejects.toMatchObject({
        name: "PartialSyntaxError",
        code: "ERR_PARTIAL_DAMAGED",
      });
      expect(readdirSync(store.dir)).toEqual([]);
    });

  test("sweep() removes a damaged record and goes on with the rest", async () => {
    await keep(KEY, new Uint8Array(20));
    writeFileSync(join(store.dir, `${"f".repeat(40)}.json`), "\u0000garbage");
    expect(await store.sweep()).toBe(1);
    expect(store.read(KEY)?.held).toBe(20);
  });

  test("dropRecording() drops the caller's partials of that recording in every shape, and nobody else's", async () => {
    const seed = { ...KEY, shape: partialShape({ kind: "data", size: 100, protection: "seed" }) };
    const mallory = { ...KEY, caller: "dev_mallory" };
    const other = { ...KEY, sha256: "cd".repeat(32) };
    for (const k of [KEY, seed, mallory, other]) await keep(k, new Uint8Array(10));
    expect(await store.dropRecording(KEY.caller, KEY.sha256)).toBe(2);
    expect([KEY, seed, mallory, other].map((k) => store.read(k)?.held)).toEqual([
      undefined,
      undefined,
      10,
      10,
    ]);
  });

  test("a checkpoint is not handed out while its receive runs; adopt() turns it into a kept partial cut to its count", async () => {
    const incoming = join(dir, "running.part");
    const bytes = new Uint8Array(80).map((_, i) => i);
    writeFileSync(incoming, bytes);
    store.checkpoint(KEY, { name: "r.bin", path: incoming, held: 50 });
    expect(statSync(recordPath()).mode & 0o777).toBe(0o600);
    expect(await store.take(KEY, join(dir, "x.part"))).toBeUndefined();
    expect(await store.adopt()).toBe(1);
    const into = join(dir, "back.part");
    expect(await store.take(KEY, into)).toEqual({ path: into, held: 50 });
    expect(new Uint8Array(readFileSync(into))).toEqual(bytes.subarray(0, 50));
  });

  test("adopt() drops a checkpoint whose file is gone or shorter than its count, and leaves kept partials alone", async () => {
    await keep({ ...KEY, caller: "dev_other" }, new Uint8Array(10));
    store.checkpoint(KEY, { name: "r.bin", path: join(dir, "gone.part"), held: 50 });
    expect(await store.adopt()).toBe(0);
    expect(store.read(KEY)).toBeUndefined();
    expect(store.read({ ...KEY, caller: "dev_other" })?.held).toBe(10);
  });

  test("sweep() of a data dir without partials removes nothing", async () => {
    expect(await store.sweep()).toBe(0);
  });
});
