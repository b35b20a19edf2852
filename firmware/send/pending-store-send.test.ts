/** @module Tests for the pending store-send record: round trip, one per recording and callee, mode 0600, damage refused. */
import { afterEach, describe, expect, test } from "bun:test";
import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  loadPendingStoreSend,
  type PendingStoreSend,
  removePendingStoreSend,
  savePendingStoreSend,
} from "./pending-store-send.ts";

const SHA = "ab".repeat(32);
const record: PendingStoreSend = {
  version: 1,
  sessionId: "ses_x",
  key: "k".repeat(43),
  expiresAt: 1_800_000_000_000,
  transfer: { id: "tr_x", size: 1234 },
  sha256: SHA,
  size: 1000,
  to: "Carol",
  calleeName: "Carol",
};

const dirs: string[] = [];
function dataDir(): string {
  const d = mkdtempSync(join(tmpdir(), "pvrlink-pending-"));
  dirs.push(d);
  return d;
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

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

  const damaged: [string, string][] = [
    ["invalid JSON", "{"],
    ["a wrong version", JSON.stringify({ ...record, version: 2 })],
    ["a missing key", JSON.stringify({ ...record, key: undefined })],
  ];
  for (const [what, text] of damaged) {
    test(`loadPendingStoreSend() rejects ${what} with a SyntaxError`, () => {
      const d = dataDir();
      savePendingStoreSend(d, record);
      const [name] = readdirSync(join(d, "pending-sends"));
      writeFileSync(join(d, "pending-sends", name!), text);
      expect(() => loadPendingStoreSend(d, SHA, "carol")).toThrow(SyntaxError);
    });
  }

  test("a SHA-256 that is not hex never names a file", () => {
    expect(() => loadPendingStoreSend(dataDir(), "../../etc/passwd", "carol")).toThrow(TypeError);
  });
});
