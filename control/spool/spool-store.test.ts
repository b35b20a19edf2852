/** @module Tests for SpoolStore on every store and spool backend: reconciliation after a crash, quotas, idempotent creates, expiry, removal, short stored bytes. */
import { describe, expect, test } from "bun:test";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { SpoolKind } from "../../test/support/spool-backends.ts";
import {
  type SpoolBlobsOptions,
  type SpoolUnderTest,
  spoolBackend,
} from "../../test/support/spool-backends.ts";
import { storeBackend } from "../../test/support/store-backends.ts";
import { ApiError } from "../errors/api-error.ts";
import type { StoreKind } from "../store/sql-driver.ts";
import { FileBlobs } from "./file-blobs.ts";
import { SpoolStore } from "./spool-store.ts";

const base = {
  sessionId: "s",
  senderId: "dev_a",
  recipientId: "dev_b",
  kind: "store" as const,
  label: null,
  ttlSec: 60,
};

const BACKENDS: ReadonlyArray<[StoreKind, SpoolKind]> = [
  ["sqlite", "file"],
  ["sqlite", "s3"],
  ["postgres", "file"],
  ["postgres", "s3"],
];

/** Uploads bytes through the backend as the upload route does, advancing the index at each checkpoint. */
async function upload(s: SpoolStore, id: string, bytes: Uint8Array, offset = 0): Promise<number> {
  const e = (await s.get(id, 0))!;
  let from = offset;
  const r = await s.blobs.append({
    entry: e,
    offset,
    body: new Blob([bytes]).stream(),
    checkpoint: async (durable, part) => {
      await s.advance(id, { from, received: durable, ...(part ? { part } : {}) });
      from = durable;
    },
  });
  if (r.error !== undefined) throw r.error;
  return r.received;
}

async function readAll(s: SpoolStore, id: string): Promise<Uint8Array> {
  const e = (await s.get(id, 0))!;
  return new Uint8Array(await new Response(s.blobs.body(e, 0)).arrayBuffer());
}

describe.each(BACKENDS)("SpoolStore on %s with the %s spool", (storeKind, spoolKind) => {
  const stores = storeBackend(storeKind);
  const spools = spoolBackend(spoolKind);

  async function withStore(
    f: (s: SpoolStore, spool: SpoolUnderTest) => Promise<void>,
    o: SpoolBlobsOptions = {},
  ): Promise<void> {
    const dir = mkdtempSync(join(tmpdir(), "pvrlink-spool-"));
    try {
      const spool = spools.blobs(dir, { partBytes: 4, ...o });
      await f(new SpoolStore(await stores.open(), spool.factory), spool);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  test("recover() deletes orphaned stored bytes but never foreign names", async () => {
    await withStore(
      async (s, spool) => {
        const { entry: e } = await s.create({ ...base, size: 10, quotaBytes: 100 }, 0);
        expect(await upload(s, e.id, new TextEncoder().encode("0123456789"))).toBe(10);
        const orphan =
          spoolKind === "file" ? "tr_AAAAAAAAAAAAAAAAAAAAAA.part" : "tr_AAAAAAAAAAAAAAAAAAAAAA/000001-x";
        await spool.put(orphan, new Uint8Array([1]));
        await spool.put(spoolKind === "file" ? "notes.part.txt" : "notes.txt", new Uint8Array([2]));
        expect(await s.recover()).toEqual({ orphans: 1, shortened: 0 });
        expect(await spool.stored()).not.toContain(orphan);
        expect((await s.get(e.id, 0))?.received).toBe(10);
      },
      { orphanGraceMs: 0 },
    );
  });

  test("recover() lowers received to what is really stored and clears complete", async () => {
    await withStore(async (s, spool) => {
      const { entry: e } = await s.create({ ...base, size: 10, quotaBytes: 100 }, 0);
      await upload(s, e.id, new TextEncoder().encode("0123456789"));
      await s.markComplete(e.id, null);
      // file: one file cut to 5 bytes; s3 (4-byte parts at 0, 4, 8): the second part cut short, so 4 remain.
      const [name] = (await spool.stored()).sort().slice(spoolKind === "file" ? 0 : 1);
      await spool.truncate(name!, spoolKind === "file" ? 5 : 2);
      expect(await s.recover()).toEqual({ orphans: 0, shortened: 1 });
      expect(await s.get(e.id, 0)).toMatchObject({ received: spoolKind === "file" ? 5 : 4, complete: false });
    });
  });

  test("an upload continues from the stored offset and reads back byte-identical across parts", async () => {
    await withStore(async (s) => {
      const data = new TextEncoder().encode("abcdefghijklmnopqrstuvwxyz");
      const { entry: e } = await s.create({ ...base, size: data.byteLength, quotaBytes: 100 }, 0);
      expect(await upload(s, e.id, data.subarray(0, 9))).toBe(9);
      expect(await upload(s, e.id, data.subarray(9), 9)).toBe(data.byteLength);
      await s.markComplete(e.id, null);
      expect(new TextDecoder().decode(await readAll(s, e.id))).toBe("abcdefghijklmnopqrstuvwxyz");
      // A read answers at least one byte, up to the end of the piece it is in: on S3 the first upload left
      // parts 0-4, 4-8, 8-9 (its cut-short tail is a part too) and the second 9-13, 13-17, 17-21, ...
      const tail = new TextDecoder().decode(await s.blobs.read((await s.get(e.id, 0))!, 20, 26));
      expect(tail).toBe(spoolKind === "file" ? "uvwxyz" : "u");
    });
  });

  test.if(spoolKind === "s3")(
    "a read that finds a part missing or short throws ERR_SPOOL_SHORT and lowers the transfer to that part",
    async () => {
      await withStore(async (s, spool) => {
        const { entry: e } = await s.create({ ...base, size: 12, quotaBytes: 100 }, 0);
        await upload(s, e.id, new TextEncoder().encode("abcdefghijkl"));
        await s.markComplete(e.id, null);
        const names = (await spool.stored()).sort();
        await spool.truncate(names[2]!, 1); // the part at 8..12 now holds one byte
        const full = (await s.get(e.id, 0))!;
        expect(new TextDecoder().decode(await s.blobs.read(full, 4, 8))).toBe("efgh");
        const err = await s.blobs.read(full, 9, 12).catch((x: unknown) => x);
        expect(err).toMatchObject({ code: "ERR_SPOOL_SHORT" });
        expect((err as Error).message).toContain("stored bytes end at 8");
        expect(await s.get(e.id, 0)).toMatchObject({ received: 8, complete: false });
        // The whole-body stream of the damaged transfer errors rather than ending short and silent.
        const body = await new Response(s.blobs.body(full, 0)).arrayBuffer().catch((x: unknown) => x);
        expect(body).toMatchObject({ code: "ERR_SPOOL_SHORT" });
      });
    },
  );

  test.if(spoolKind === "file" && storeKind === "postgres")(
    "on a shared store a filesystem spool reconciles only its own rows, and never deletes a file any row names",
    async () => {
      const dir = mkdtempSync(join(tmpdir(), "pvrlink-spool-shared-"));
      try {
        const db = await stores.open();
        const a = new SpoolStore(db, () => new FileBlobs(dir, { nodeName: "node-a" }));
        const { entry: e } = await a.create({ ...base, size: 10, quotaBytes: 100 }, 0);
        await upload(a, e.id, new TextEncoder().encode("0123456789"));
        // Node b (another host) and node a under a new name (its host renamed) hold none of a's rows.
        for (const name of ["node-b", "node-a-renamed"]) {
          const other = new SpoolStore(db, () => new FileBlobs(dir, { nodeName: name }));
          expect(await other.recover()).toEqual({ orphans: 0, shortened: 0 });
          expect(other.holds((await other.get(e.id, 0))!)).toBe(false);
        }
        expect(readdirSync(dir)).toEqual([`${e.id}.part`]);
        expect((await a.get(e.id, 0))?.received).toBe(10);
        expect(a.holds((await a.get(e.id, 0))!)).toBe(true);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  );

  test("advance() refuses a checkpoint from an offset the index is no longer at", async () => {
    await withStore(async (s) => {
      const { entry: e } = await s.create({ ...base, size: 10, quotaBytes: 100 }, 0);
      await s.advance(e.id, { from: 0, received: 4 });
      const err = await s.advance(e.id, { from: 0, received: 6 }).catch((x: unknown) => x);
      expect(err).toBeInstanceOf(ApiError);
      expect((err as ApiError).code).toBe("offset_mismatch");
      expect((await s.get(e.id, 0))?.received).toBe(4);
    });
  });

  test("create() enforces the per-sender quota over unexpired entries", async () => {
    await withStore(async (s) => {
      await s.create({ ...base, size: 60, quotaBytes: 100 }, 0);
      expect(
        await s.create({ ...base, size: 41, quotaBytes: 100 }, 0).catch((e: unknown) => e),
      ).toBeInstanceOf(ApiError);
      expect((await s.create({ ...base, senderId: "dev_c", size: 100, quotaBytes: 100 }, 0)).entry.size).toBe(
        100,
      );
      expect((await s.create({ ...base, size: 100, quotaBytes: 100 }, 60_000)).entry.size).toBe(100);
    });
  });

  test("create() with an idempotency key returns the same transfer on a retry and refuses a different request", async () => {
    await withStore(async (s) => {
      const key = "retry-key-0001";
      const first = await s.create({ ...base, size: 10, quotaBytes: 100, idempotencyKey: key }, 0);
      const again = await s.create({ ...base, size: 10, quotaBytes: 100, idempotencyKey: key }, 1);
      expect([first.created, again.created]).toEqual([true, false]);
      expect(again.entry.id).toBe(first.entry.id);
      expect(await s.reservedBy("dev_a", 1)).toBe(10);
      const other = await s
        .create({ ...base, size: 11, quotaBytes: 100, idempotencyKey: key }, 2)
        .catch((e: unknown) => e);
      expect((other as ApiError).code).toBe("idempotency_key_reused");
      // The key is the sender's own: another device's same key is another transfer.
      const theirs = await s.create(
        { ...base, senderId: "dev_c", size: 10, quotaBytes: 100, idempotencyKey: key },
        3,
      );
      expect(theirs.created).toBe(true);
    });
  });

  test("markComplete() refuses an entry that does not hold all its bytes", async () => {
    await withStore(async (s) => {
      const { entry: e } = await s.create({ ...base, size: 10, quotaBytes: 100 }, 0);
      await s.advance(e.id, { from: 0, received: 9 });
      await s.markComplete(e.id, null);
      expect((await s.get(e.id, 0))?.complete).toBe(false);
    });
  });

  test("sweepExpired() removes expired rows and stored bytes except busy ones", async () => {
    await withStore(async (s, spool) => {
      const a = (await s.create({ ...base, size: 1, quotaBytes: 100 }, 0)).entry;
      const b = (await s.create({ ...base, size: 1, quotaBytes: 100 }, 0)).entry;
      await upload(s, a.id, new Uint8Array([7]));
      expect(await s.sweepExpired(60_000, new Set([b.id]))).toEqual([a.id]);
      expect((await spool.stored()).some((n) => n.startsWith(a.id))).toBe(false);
      expect(await s.sweepExpired(60_000)).toEqual([b.id]);
    });
  });
});
