/** @module Tests of indexFile() and readChunksBlocking(): the blocking pass gives the same bytes and the same index as the read-ahead one, and pace hears of every byte. */
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { indexRecording } from "../../codec/container/index-recording.ts";
import { ES_FIXTURE_DIR, esFixtureNames, loadEsFixture } from "../../test/support/es-fixtures.ts";
import { indexFile, openInput, readChunksBlocking } from "./recording-file.ts";

const work = mkdtempSync(join(tmpdir(), "pvrlink-recfile-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe("readChunksBlocking()", () => {
  const bytes = new Uint8Array(10_000).map((_, i) => (i * 7919) & 0xff);
  const path = join(work, "data");
  writeFileSync(path, bytes);
  for (const size of [1, 333, 4096, 10_000, 20_000]) {
    test(`readChunksBlocking() yields every byte once in ${size}-byte chunks from one buffer`, async () => {
      await using h = await openInput(path);
      const copies: Uint8Array[] = [];
      const buffers = new Set<ArrayBufferLike>();
      for (const c of readChunksBlocking(h, { chunkBytes: size })) {
        expect(c.length).toBeLessThanOrEqual(size);
        copies.push(c.slice());
        buffers.add(c.buffer);
      }
      expect(Buffer.concat(copies).equals(bytes)).toBe(true);
      expect(buffers.size).toBe(1);
    });
  }

  test("readChunksBlocking() yields nothing for an empty file", async () => {
    const empty = join(work, "empty");
    writeFileSync(empty, new Uint8Array(0));
    await using h = await openInput(empty);
    expect([...readChunksBlocking(h)]).toEqual([]);
  });
});

describe("indexFile()", () => {
  for (const name of esFixtureNames()) {
    test(`indexFile() gives the in-memory index with blocking and read-ahead reads: ${name}`, async () => {
      const path = join(ES_FIXTURE_DIR, name);
      const bytes = loadEsFixture(name);
      const expected = indexRecording(bytes);
      for (const blocking of [true, false]) {
        await using h = await openInput(path);
        const got = await indexFile(h, { hash: true, blocking });
        expect(got.length).toBe(bytes.length);
        expect(got.index).toEqual(expected);
        expect(Buffer.from(got.sha256!).equals(new Bun.CryptoHasher("sha256").update(bytes).digest())).toBe(
          true,
        );
      }
    });
  }

  const paced: Array<[string, number]> = [
    ["one short read", 5_000],
    ["a file of several 4 MiB reads", 9 * 1024 * 1024 + 17],
  ];
  for (const [what, size] of paced) {
    for (const blocking of [true, false]) {
      test(`indexFile() tells pace every byte it reads of ${what}${blocking ? " (blocking)" : ""}`, async () => {
        const path = join(work, `paced-${size}`);
        writeFileSync(path, new Uint8Array(size).fill(0x47));
        await using h = await openInput(path);
        const moved: number[] = [];
        const got = await indexFile(h, { hash: false, blocking, pace: { moved: (n) => moved.push(n) } });
        expect(moved.reduce((a, b) => a + b, 0)).toBe(size);
        expect(got.length).toBe(size);
      });
    }
  }
});
