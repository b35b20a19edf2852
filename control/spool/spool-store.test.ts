/** @module Tests for SpoolStore: crash recovery of spool files, quotas, expiry and removal. */
import { Database } from "bun:sqlite";
import { describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ApiError } from "../errors/api-error.ts";
import { SpoolStore } from "./spool-store.ts";

function withStore(f: (s: SpoolStore, db: Database, dir: string) => void) {
  const dir = mkdtempSync(join(tmpdir(), "pvrlink-spool-"));
  const db = new Database(join(dir, "index.db"), { create: true });
  try {
    f(new SpoolStore(db, dir), db, dir);
  } finally {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

const base = {
  sessionId: "s",
  senderId: "dev_a",
  recipientId: "dev_b",
  kind: "store" as const,
  label: null,
  ttlSec: 60,
};

describe("SpoolStore", () => {
  test("recover() deletes orphan spool files but never foreign files", () => {
    withStore((s, _db, dir) => {
      const e = s.create({ ...base, size: 10, quotaBytes: 100 }, 0);
      writeFileSync(s.pathOf(e.id), "0123456789");
      const orphan = join(dir, "tr_AAAAAAAAAAAAAAAAAAAAAA.part");
      writeFileSync(orphan, "x");
      writeFileSync(join(dir, "notes.txt"), "keep");
      s.setReceived(e.id, 10);
      expect(s.recover()).toEqual({ orphans: 1, shortened: 0 });
      expect(existsSync(orphan)).toBe(false);
      expect(readdirSync(dir).sort()).toContain("notes.txt");
      expect(s.get(e.id, 0)?.received).toBe(10);
    });
  });

  test("recover() lowers received to what the file really holds and clears complete", () => {
    withStore((s) => {
      const e = s.create({ ...base, size: 10, quotaBytes: 100 }, 0);
      writeFileSync(s.pathOf(e.id), "0123456789");
      s.setReceived(e.id, 10);
      s.markComplete(e.id, null);
      writeFileSync(s.pathOf(e.id), "01234");
      expect(s.recover()).toEqual({ orphans: 0, shortened: 1 });
      expect(s.get(e.id, 0)).toMatchObject({ received: 5, complete: false });
    });
  });

  test("create() enforces the per-sender quota over unexpired entries", () => {
    withStore((s) => {
      s.create({ ...base, size: 60, quotaBytes: 100 }, 0);
      expect(() => s.create({ ...base, size: 41, quotaBytes: 100 }, 0)).toThrow(ApiError);
      expect(s.create({ ...base, senderId: "dev_c", size: 100, quotaBytes: 100 }, 0).size).toBe(100);
      expect(s.create({ ...base, size: 100, quotaBytes: 100 }, 60_000).size).toBe(100);
    });
  });

  test("markComplete() refuses an entry that does not hold all its bytes", () => {
    withStore((s) => {
      const e = s.create({ ...base, size: 10, quotaBytes: 100 }, 0);
      s.setReceived(e.id, 9);
      s.markComplete(e.id, null);
      expect(s.get(e.id, 0)?.complete).toBe(false);
    });
  });

  test("sweepExpired() removes expired rows and files except busy ones", () => {
    withStore((s) => {
      const a = s.create({ ...base, size: 1, quotaBytes: 100 }, 0);
      const b = s.create({ ...base, size: 1, quotaBytes: 100 }, 0);
      writeFileSync(s.pathOf(a.id), "a");
      expect(s.sweepExpired(60_000, new Set([b.id]))).toEqual([a.id]);
      expect(existsSync(s.pathOf(a.id))).toBe(false);
      expect(s.sweepExpired(60_000)).toEqual([b.id]);
    });
  });
});
