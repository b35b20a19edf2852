/** @module Tests of the commands' file plumbing: chunked reads with read-ahead, range reads, buffered writes. */
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { open } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { InputError } from "../../cli/command.ts";
import { BufferedWriter } from "./buffered-writer.ts";
import { openInput, openInputSync, readChunks, readRange } from "./recording-file.ts";

const work = mkdtempSync(join(tmpdir(), "pvrlink-fileio-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const bytes = new Uint8Array(10_000).map((_, i) => (i * 7919) & 0xff);
const path = join(work, "data");
writeFileSync(path, bytes);

describe("readChunks()", () => {
  for (const size of [1, 333, 4096, 10_000, 20_000]) {
    test(`yields every byte once in fresh ${size}-byte chunks`, async () => {
      await using h = await openInput(path);
      const chunks: Uint8Array[] = [];
      for await (const c of readChunks(h, { chunkBytes: size })) chunks.push(c);
      expect(Buffer.concat(chunks).equals(bytes)).toBe(true);
      expect(new Set(chunks.map((c) => c.buffer)).size).toBe(chunks.length);
    });
  }

  test("with reuse, yields every byte once from two alternating buffers", async () => {
    await using h = await openInput(path);
    const copies: Uint8Array[] = [];
    const buffers = new Set<ArrayBufferLike>();
    for await (const c of readChunks(h, { chunkBytes: 999, reuse: true })) {
      copies.push(c.slice());
      buffers.add(c.buffer);
    }
    expect(Buffer.concat(copies).equals(bytes)).toBe(true);
    expect(buffers.size).toBe(2);
  });

  // 64 KiB chunks: releaseBuffer() leaves smaller buffers to the collector.
  const endings = [
    { what: "the loop ends", reuse: true, stopAfter: Infinity, detached: true },
    { what: "the caller breaks off", reuse: true, stopAfter: 1, detached: true },
    {
      what: "the loop ends, fresh chunks (the caller's to keep)",
      reuse: false,
      stopAfter: Infinity,
      detached: false,
    },
  ];
  for (const e of endings) {
    test(`${e.detached ? "releases" : "keeps"} its buffers when ${e.what}`, async () => {
      await using h = await openInput(path);
      const seen: Uint8Array[] = [];
      for await (const c of readChunks(h, { chunkBytes: 64 * 1024, reuse: e.reuse })) {
        seen.push(c);
        if (seen.length >= e.stopAfter) break;
      }
      expect(seen.length).toBe(1);
      expect((seen[0]!.buffer as ArrayBuffer).detached).toBe(e.detached);
      if (!e.detached) expect(Buffer.from(seen[0]!).equals(bytes)).toBe(true);
    });
  }

  test("stops cleanly when the caller breaks off with a read in flight", async () => {
    await using h = await openInput(path);
    for await (const c of readChunks(h, { chunkBytes: 100, reuse: true })) {
      expect(c.length).toBe(100);
      break;
    }
  });
});

describe("readRange()", () => {
  const cases: [number, number, number][] = [
    [0, 10, 10],
    [9_995, 10, 5],
    [20_000, 10, 0],
  ];
  for (const [offset, length, got] of cases) {
    test(`readRange() at ${offset}+${length} returns ${got} bytes`, async () => {
      await using h = await openInput(path);
      const r = await readRange(h, offset, length);
      expect(Buffer.from(r).equals(bytes.subarray(offset, offset + got))).toBe(true);
    });
  }
});

describe("openInput()", () => {
  const cases: [string, string, string][] = [
    ["a missing file", join(work, "missing"), "ERR_FILE_READ"],
    ["a directory", work, "ERR_FILE_TYPE"],
  ];
  for (const [name, p, code] of cases) {
    test(`openInput() rejects ${name} with ${code}`, async () => {
      const err = await openInput(p).catch((e) => e);
      expect(err).toBeInstanceOf(InputError);
      expect(err.code).toBe(code);
    });
    test(`openInputSync() rejects ${name} with ${code}`, () => {
      let err: unknown;
      try {
        openInputSync(p);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(InputError);
      expect((err as InputError).code).toBe(code);
    });
  }

  test("openInputSync() reads a file as openInput() does", async () => {
    using h = openInputSync(path);
    expect(Buffer.from(await readRange(h, 100, 50)).equals(bytes.subarray(100, 150))).toBe(true);
  });
});

describe("BufferedWriter", () => {
  test("writes small and large pieces in order", async () => {
    const out = join(work, "out");
    {
      await using h = await open(out, "w");
      const w = new BufferedWriter(h, 64);
      for (let at = 0, n = 1; at < bytes.length; at += n, n = (n * 3) % 200)
        await w.write(bytes.subarray(at, at + n));
      await w.flush();
      expect(w.written).toBe(bytes.length);
    }
    expect(Buffer.from(readFileSync(out)).equals(bytes)).toBe(true);
  });
});
