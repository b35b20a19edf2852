/** @module Tests for the pending fallback-send record: round trip, mode 0600, beside a store record, every kind of damage refused with a stable code and removed. */
import { afterEach, describe, expect, test } from "bun:test";
import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  loadPendingFallbackSend,
  type PendingFallbackSend,
  removePendingFallbackSend,
  savePendingFallbackSend,
} from "./pending-fallback-send.ts";
import { loadPendingStoreSend, savePendingStoreSend } from "./pending-store-send.ts";

const SHA = "cd".repeat(32);
const record: PendingFallbackSend = {
  version: 1,
  sessionId: "ses_x",
  key: "k".repeat(43),
  enc: "e".repeat(43),
  expiresAt: 1_800_000_000_000,
  sender: "alice",
  transfers: [
    { id: "tr_p", size: 2000, part: "protected", siblingTransferId: "tr_d" },
    { id: "tr_d", size: 9000, part: "direct" },
  ],
  sha256: SHA,
  size: 10_000,
  to: "Bob",
};

const dirs: string[] = [];
function dataDir(): string {
  const d = mkdtempSync(join(tmpdir(), "pvrlink-fallback-"));
  dirs.push(d);
  return d;
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** A data dir whose record for (SHA, bob) holds `text`. */
function withRecord(text: string): string {
  const d = dataDir();
  savePendingFallbackSend(d, record);
  const [name] = readdirSync(join(d, "pending-sends"));
  writeFileSync(join(d, "pending-sends", name!), text);
  return d;
}

describe("pending fallback sends", () => {
  test("savePendingFallbackSend() keeps one 0600 record that loadPendingFallbackSend() reads back, by recording and callee", () => {
    const d = dataDir();
    savePendingFallbackSend(d, record);
    const files = readdirSync(join(d, "pending-sends"));
    expect(files).toHaveLength(1);
    expect(statSync(join(d, "pending-sends", files[0]!)).mode & 0o777).toBe(0o600);
    expect(loadPendingFallbackSend(d, SHA, " bob ")).toEqual(record);
    expect(loadPendingFallbackSend(d, SHA, "carol")).toBeUndefined();
    expect(loadPendingFallbackSend(d, "ef".repeat(32), "bob")).toBeUndefined();
    removePendingFallbackSend(d, SHA, "Bob");
    expect(loadPendingFallbackSend(d, SHA, "Bob")).toBeUndefined();
  });

  test("a fallback record and a store record of the same recording and callee live side by side", () => {
    const d = dataDir();
    savePendingFallbackSend(d, record);
    const store = {
      version: 2 as const,
      sessionId: "ses_s",
      key: "s".repeat(43),
      expiresAt: 1,
      transfer: { id: "tr_s", size: 5 },
      sha256: SHA,
      size: 1,
      to: "Bob",
      calleeName: "Bob",
    };
    savePendingStoreSend(d, store);
    expect(loadPendingFallbackSend(d, SHA, "Bob")?.sessionId).toBe("ses_x");
    expect(loadPendingStoreSend(d, SHA, "Bob")?.sessionId).toBe("ses_s");
  });

  const damaged: Array<[string, string]> = [
    ["truncated JSON", JSON.stringify(record).slice(0, 40)],
    ["an empty file", ""],
    ["not an object", "42"],
    ["another version", JSON.stringify({ ...record, version: 2 })],
    ["no key", JSON.stringify({ ...record, key: undefined })],
    ["a number as enc", JSON.stringify({ ...record, enc: 5 })],
    ["no transfers", JSON.stringify({ ...record, transfers: [] })],
    ["three transfers", JSON.stringify({ ...record, transfers: [...record.transfers, record.transfers[0]] })],
    ["an unknown part", JSON.stringify({ ...record, transfers: [{ id: "tr", size: 1, part: "all" }] })],
    ["a negative size", JSON.stringify({ ...record, transfers: [{ id: "tr", size: -1, part: "whole" }] })],
    ["a fractional size", JSON.stringify({ ...record, transfers: [{ id: "tr", size: 1.5, part: "whole" }] })],
    ["no sender", JSON.stringify({ ...record, sender: null })],
  ];
  for (const [what, text] of damaged) {
    test(`loadPendingFallbackSend() refuses ${what} with ERR_PENDING_SEND_DAMAGED and removes it`, () => {
      const d = withRecord(text);
      expect(() => loadPendingFallbackSend(d, SHA, "bob")).toThrow(
        expect.objectContaining({ code: "ERR_PENDING_SEND_DAMAGED" }),
      );
      expect(readdirSync(join(d, "pending-sends"))).toEqual([]);
      expect(loadPendingFallbackSend(d, SHA, "bob")).toBeUndefined();
    });
  }

  test("loadPendingFallbackSend() survives random corruption of a valid record: a record or the stable error", () => {
    const text = JSON.stringify(record);
    for (let i = 0; i < 300; i++) {
      const bytes = Buffer.from(text);
      const at = (i * 7919) % bytes.length;
      bytes[at] = (bytes[at]! + 1 + (i % 250)) & 0xff;
      const d = withRecord(bytes.toString("latin1"));
      try {
        const got = loadPendingFallbackSend(d, SHA, "bob");
        expect(got?.version).toBe(1);
      } catch (err) {
        expect((err as { code?: string }).code).toBe("ERR_PENDING_SEND_DAMAGED");
      }
    }
  });
});
