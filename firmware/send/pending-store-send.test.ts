/** @module Tests for the pending store-send record: round trip, one per recording and callee, mode 0600, damage and version 1 refused, version 1 still cancellable. */
import { afterEach, describe, expect, test } from "bun:test";
import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  loadCancellableStoreSend,
  loadPendingStoreSend,
  type PendingStoreSend,
  removePendingStoreSend,
  savePendingStoreSend,
} from "./pending-store-send.ts";

const SHA = "ab".repeat(32);
const record: PendingStoreSend = {
  version: 2,
  sessionId: "ses_x",
  key: "k".repeat(43),
  enc: "e".repeat(43),
  expiresAt: 1_800_000_000_000,
  transfer: { id: "tr_x", size: 1234 },
  sha256: SHA,
  size: 1000,
  to: "Carol",
  calleeName: "Carol",
};
/** A record as pvrlink wrote it before store streams carried an HPKE enc. */
const { enc: _enc, ...beforeHpke } = { ...record, version: 1 };

const dirs: string[] = [];
function dataDir(): string {
  const d = mkdtempSync(join(tmpdir(), "pvrlink-pending-"));
  dirs.push(d);
  return d;
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** A data dir whose one record for (SHA, carol) holds `text`. */
function withRecord(text: string): string {
  const d = dataDir();
  savePendingStoreSend(d, record);
  const [name] = readdirSync(join(d, "pending-sends"));
  writeFileSync(join(d, "pending-sends", name!), text);
  return d;
}

describe("pending store sends", () => {
  test("savePendingStoreSend() keeps one 0600 record that loadPendingStoreSend() reads back, by recording and callee", () => {
    const d = dataDir();
    savePendingStoreSend(d, record);
    expect(loadPendingStoreSend(d, SHA, "carol")).toEqual(record);
    expect(loadPendingStoreSend(d, SHA, "dave")).toBeUndefined();
    expect(loadPendingStoreSend(d, "cd".repeat(32), "carol")).toBeUndefined();
    const [name] = readdirSync(join(d, "pending-sends"));
    expect(statSync(join(d, "pending-sends", name!)).mode & 0o777).toBe(0o600);
    removePendingStoreSend(d, SHA, "Carol");
    expect(loadPendingStoreSend(d, SHA, "carol")).toBeUndefined();
  });

  test("loadPendingStoreSend() reads a record without enc (a callee that had no identity key)", () => {
    const { enc: _e, ...plain } = record;
    const d = dataDir();
    savePendingStoreSend(d, plain);
    expect(loadPendingStoreSend(d, SHA, "carol")).toEqual(plain);
  });

  test("loadPendingStoreSend() refuses a version 1 record (from before HPKE) with ERR_PENDING_SEND_VERSION, naming --cancel", () => {
    const d = withRecord(JSON.stringify(beforeHpke));
    let err: unknown;
    try {
      loadPendingStoreSend(d, SHA, "carol");
    } catch (e) {
      err = e;
    }
    expect((err as { code?: string }).code).toBe("ERR_PENDING_SEND_VERSION");
    expect((err as Error).message).toContain("--cancel");
  });

  test("loadCancellableStoreSend() reads version 1 and 2 records: --cancel still gives up an old send", () => {
    const want = { sessionId: "ses_x", transfer: { id: "tr_x", size: 1234 } };
    expect(loadCancellableStoreSend(withRecord(JSON.stringify(beforeHpke)), SHA, "carol")).toEqual(want);
    expect(loadCancellableStoreSend(withRecord(JSON.stringify(record)), SHA, "carol")).toEqual(want);
    expect(loadCancellableStoreSend(dataDir(), SHA, "carol")).toBeUndefined();
  });

  const damaged: [string, string][] = [
    ["invalid JSON", "{"],
    ["an unknown version", JSON.stringify({ ...record, version: 3 })],
    ["a missing key", JSON.stringify({ ...record, key: undefined })],
    ["an enc that is not a string", JSON.stringify({ ...record, enc: 7 })],
  ];
  for (const [what, text] of damaged) {
    test(`loadPendingStoreSend() rejects ${what} with a SyntaxError`, () => {
      expect(() => loadPendingStoreSend(withRecord(text), SHA, "carol")).toThrow(SyntaxError);
    });
  }

  test("loadCancellableStoreSend() rejects a record without its transfer with a SyntaxError", () => {
    const d = withRecord(JSON.stringify({ ...record, transfer: undefined }));
    expect(() => loadCancellableStoreSend(d, SHA, "carol")).toThrow(SyntaxError);
  });

  test("a SHA-256 that is not hex never names a file", () => {
    expect(() => loadPendingStoreSend(dataDir(), "../../etc/passwd", "carol")).toThrow(TypeError);
  });
});
