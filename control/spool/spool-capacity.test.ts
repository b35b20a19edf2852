/** @module Tests for SpoolCapacity: the node-wide cap and the free-space reserve, table-driven over a real sqlite spool index. */
import { expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ApiError } from "../errors/api-error.ts";
import { openControlStore } from "../store/open-control-store.ts";
import { FileBlobs } from "./file-blobs.ts";
import { noSpaceError, SpoolCapacity, statfsFreeBytes } from "./spool-capacity.ts";
import { SpoolStore } from "./spool-store.ts";

const NOW = 1_000_000;

/** [name, cap, reserve, free, live transfers (sizes, received), asked size, expected outcome] */
const cases: [string, number, number, number, [number, number][], number, string][] = [
  ["fits under cap and above reserve", 100, 10, 1000, [], 50, "ok"],
  ["cap counts every sender's live transfers", 100, 10, 1000, [[60, 0]], 50, "507 spool_full"],
  ["exactly at the cap is allowed", 100, 0, 1000, [[50, 50]], 50, "ok"],
  ["free space minus the reserve is too small", 1000, 10, 55, [], 50, "507 insufficient_storage"],
  [
    "unwritten bytes of admitted transfers count against free space",
    1000,
    10,
    95,
    [[40, 0]],
    50,
    "507 insufficient_storage",
  ],
  ["written bytes are already out of the free figure", 1000, 10, 100, [[40, 40]], 50, "ok"],
];

for (const [name, cap, reserve, free, live, size, want] of cases) {
  test(`SpoolCapacity.admitTransfer(): ${name}`, async () => {
    const dir = mkdtempSync(join(tmpdir(), "pvrlink-capacity-"));
    await using db = await openControlStore(":memory:");
    try {
      const store = new SpoolStore(db, () => new FileBlobs(dir));
      for (const [sz, received] of live) {
        const { entry: e } = await store.create(
          {
            sessionId: "s",
            senderId: `d${sz}`,
            recipientId: "r",
            kind: "relay",
            size: sz,
            label: null,
            ttlSec: 60,
            quotaBytes: 1e9,
          },
          NOW,
        );
        if (received > 0) await store.advance(e.id, { from: 0, received });
      }
      const capacity = new SpoolCapacity(store, {
        capBytes: cap,
        reserveBytes: reserve,
        freeBytes: () => free,
      });
      let got = "ok";
      try {
        await capacity.admitTransfer(size, NOW);
      } catch (err) {
        got = err instanceof ApiError ? `${err.status} ${err.code}` : String(err);
      }
      expect(got).toBe(want);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
}

test("SpoolCapacity treats an unreadable filesystem as full", async () => {
  await using db = await openControlStore(":memory:");
  const store = new SpoolStore(db, () => new FileBlobs(join(tmpdir(), "no-such-dir-pvrlink")));
  const capacity = new SpoolCapacity(store, { capBytes: 1e9, reserveBytes: 0 });
  expect(await capacity.admitTransfer(1, NOW).catch((e: unknown) => e)).toMatchObject({
    code: "insufficient_storage",
  });
});

test("statfsFreeBytes() reads a real filesystem; noSpaceError() maps only ENOSPC and EDQUOT", () => {
  expect(statfsFreeBytes(tmpdir())).toBeGreaterThan(0);
  expect(noSpaceError(Object.assign(new Error("x"), { code: "ENOSPC" }), 5)?.body()).toMatchObject({
    error: { code: "insufficient_storage", received: 5 },
  });
  expect(noSpaceError(Object.assign(new Error("x"), { code: "ECONNRESET" }), 5)).toBeNull();
  expect(noSpaceError(undefined, 0)).toBeNull();
});
