/** @module Tests for appendStream(): gathered writes, a paused body written before it goes on, the size limit. */
import { describe, expect, test } from "bun:test";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ApiError } from "../errors/api-error.ts";
import { appendStream, WRITE_BYTES } from "./spool-upload.ts";

const KIB = 1024;

/** Chunk i of a body: fresh bytes each call (appendStream frees the chunks it is handed), filled with i. */
const chunkOf = (i: number, size: number) => new Uint8Array(size).fill(i & 0xff);

/** The bytes chunkOf gives for `count` chunks of `size`, joined. */
function expected(count: number, size: number): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(count * size);
  for (let i = 0; i < count; i++) out.fill(i & 0xff, i * size, (i + 1) * size);
  return out;
}

async function tempDir(): Promise<AsyncDisposable & { path: string }> {
  const path = await mkdtemp(join(tmpdir(), "spool-upload-"));
  return { path, [Symbol.asyncDispose]: () => rm(path, { recursive: true, force: true }) };
}

describe("appendStream()", () => {
  const cases: Array<{ name: string; count: number; size: number }> = [
    { name: "16 chunks of 64 KiB (one write)", count: 16, size: 64 * KIB },
    { name: "40 chunks of 64 KiB (past two writes)", count: 40, size: 64 * KIB },
    { name: "3 chunks of 1000 bytes", count: 3, size: 1000 },
    { name: "2 chunks of 1.5 MiB (larger than a write)", count: 2, size: 1536 * KIB },
  ];
  for (const c of cases) {
    test(`appendStream() stores ${c.name} in order and counts them durable`, async () => {
      await using dir = await tempDir();
      const path = join(dir.path, "t.part");
      const total = c.count * c.size;
      let i = 0;
      const body = new ReadableStream<Uint8Array>({
        pull(controller) {
          if (i === c.count) controller.close();
          else controller.enqueue(chunkOf(i++, c.size));
        },
      });
      const checkpoints: number[] = [];
      const r = await appendStream({
        path,
        offset: 0,
        limit: total,
        body,
        checkpoint: async (d) => {
          checkpoints.push(d);
        },
      });
      expect(r).toEqual({ received: total });
      expect(checkpoints.at(-1)).toBe(total);
      expect(new Uint8Array(await readFile(path))).toEqual(expected(c.count, c.size));
    });
  }

  test("appendStream() writes a body that pauses before its next chunk comes (a live follower sees it)", async () => {
    await using dir = await tempDir();
    let controller!: ReadableStreamDefaultController<Uint8Array>;
    const body = new ReadableStream<Uint8Array>({
      start(c) {
        controller = c;
      },
    });
    let seen: (n: number) => void = () => {};
    const written = (n: number) => new Promise<void>((r) => (seen = (w) => w >= n && r()));
    const first = written(64 * KIB);
    const done = appendStream({
      path: join(dir.path, "t.part"),
      offset: 0,
      limit: 128 * KIB,
      body,
      checkpoint: async () => {},
      onWritten: (w) => seen(w),
    });
    controller.enqueue(chunkOf(0, 64 * KIB));
    await first; // fails by timeout if the chunk waited for a full WRITE_BYTES
    const second = written(128 * KIB);
    controller.enqueue(chunkOf(1, 64 * KIB));
    controller.close();
    await second;
    expect(await done).toEqual({ received: 128 * KIB });
    expect(64 * KIB).toBeLessThan(WRITE_BYTES);
  });

  test("appendStream() rejects a body past the declared size: 413 size_exceeded, the declared bytes kept", async () => {
    await using dir = await tempDir();
    const path = join(dir.path, "t.part");
    let i = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (i === 3) controller.close();
        else controller.enqueue(chunkOf(i++, 64 * KIB));
      },
    });
    const r = await appendStream({ path, offset: 0, limit: 100 * KIB, body, checkpoint: async () => {} });
    expect(r.received).toBe(100 * KIB);
    expect(r.error).toBeInstanceOf(ApiError);
    expect((r.error as ApiError).code).toBe("size_exceeded");
    expect(new Uint8Array(await readFile(path))).toEqual(expected(2, 64 * KIB).subarray(0, 100 * KIB));
  });
});
