/** @module Tests for abandonedTransfers(): incomplete transfers of sessions that are over, unless an upload runs. */
import { expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openControlStore } from "../store/open-control-store.ts";
import { abandonedTransfers } from "./abandoned-transfers.ts";
import { FileBlobs } from "./file-blobs.ts";
import { SpoolStore } from "./spool-store.ts";

test("abandonedTransfers() names incomplete transfers whose session is over and no upload holds", async () => {
  const dir = mkdtempSync(join(tmpdir(), "pvrlink-abandoned-"));
  await using db = await openControlStore(":memory:");
  try {
    const store = new SpoolStore(db, () => new FileBlobs(dir));
    const make = async (sessionId: string) =>
      (
        await store.create(
          {
            sessionId,
            senderId: "d",
            recipientId: "r",
            kind: "store",
            size: 10,
            label: null,
            ttlSec: 60,
            quotaBytes: 1e9,
          },
          0,
        )
      ).entry.id;
    const live = await make("s-live");
    const over = await make("s-over");
    const busy = await make("s-over");
    const done = await make("s-over");
    await store.advance(done, { from: 0, received: 10 });
    await store.markComplete(done, null);
    const sessionActive = (id: string) => id === "s-live";
    const incomplete = await store.incomplete(1);
    expect(abandonedTransfers(incomplete, { sessionActive, busy: new Set([busy]) })).toEqual([over]);
    expect(abandonedTransfers(incomplete, { sessionActive: () => true, busy: new Set() })).toEqual([]);
    for (const id of [live, busy, done]) expect(await store.get(id, 1)).not.toBeNull();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
