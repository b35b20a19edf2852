/** @module Tests for abandonedTransfers(): incomplete transfers of sessions that are over, unless an upload runs. */
import { expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openControlDatabase } from "../store/control-database.ts";
import { abandonedTransfers } from "./abandoned-transfers.ts";
import { SpoolStore } from "./spool-store.ts";

test("abandonedTransfers() names incomplete transfers whose session is over and no upload holds", () => {
  const dir = mkdtempSync(join(tmpdir(), "pvrlink-abandoned-"));
  using db = openControlDatabase(":memory:");
  try {
    const store = new SpoolStore(db, dir);
    const make = (sessionId: string) =>
      store.create(
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
      ).id;
    const live = make("s-live");
    const over = make("s-over");
    const busy = make("s-over");
    const done = make("s-over");
    store.setReceived(done, 10);
    store.markComplete(done, null);
    const sessionActive = (id: string) => id === "s-live";
    expect(abandonedTransfers(db, 1, { sessionActive, busy: new Set([busy]) })).toEqual([over]);
    expect(abandonedTransfers(db, 1, { sessionActive: () => true, busy: new Set() })).toEqual([]);
    expect([live, busy, done].every((id) => store.get(id, 1) !== null)).toBe(true);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
