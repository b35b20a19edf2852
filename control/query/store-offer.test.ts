/** @module StoreOfferPolicy.offer(): the node's store offer against threshold, the caller's quota left and spool space. */
import { expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FileBlobs } from "../spool/file-blobs.ts";
import { SpoolStore } from "../spool/spool-store.ts";
import { openControlStore } from "../store/open-control-store.ts";
import { type StoreOffer, StoreOfferPolicy } from "./store-offer.ts";

const NOW = 1_700_000_000_000;

/** [name, size asked, bytes the caller already holds, node-wide free bytes, expected offer]. */
const cases: [string, number | undefined, number, number, Partial<StoreOffer>][] = [
  ["fits threshold and quota", 50, 0, 1e9, { offered: true, quotaLeft: 1000 }],
  ["over the threshold", 501, 0, 1e9, { offered: false, reason: "transfer_too_large" }],
  ["at the threshold", 500, 0, 1e9, { offered: true }],
  ["over the quota left", 300, 800, 1e9, { offered: false, reason: "quota_exceeded" }],
  ["exactly the quota left", 200, 800, 1e9, { offered: true, quotaLeft: 200 }],
  ["no size, quota left", undefined, 800, 1e9, { offered: true, quotaLeft: 200 }],
  ["no size, quota used up", undefined, 1000, 1e9, { offered: false, reason: "quota_exceeded" }],
  ["no room above the reserve", 50, 0, 60, { offered: false, reason: "insufficient_storage" }],
];

for (const [name, size, held, free, want] of cases) {
  test(`StoreOfferPolicy.offer(): ${name}`, async () => {
    const dir = mkdtempSync(join(tmpdir(), "pvrlink-offer-"));
    await using db = await openControlStore(":memory:");
    try {
      const store = new SpoolStore(db, () => new FileBlobs(dir));
      if (held > 0) {
        const base = { sessionId: "s", recipientId: "r", kind: "store" as const, label: null, ttlSec: 60 };
        await store.create({ ...base, senderId: "alice", size: held, quotaBytes: 1e9 }, NOW);
      }
      const policy = new StoreOfferPolicy(store, {
        thresholdBytes: 500,
        quotaBytes: 1000,
        capBytes: 1e9,
        reserveBytes: 20,
        freeBytes: () => free,
      });
      const offer = await policy.offer("alice", size, NOW);
      expect(offer).toMatchObject(want);
      if (!offer.offered) expect(offer.message).toStartWith("the node cannot store it: ");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
}
