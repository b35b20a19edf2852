/** @module Tests that a handed-out or expired grant's password and key leave control.db and control.db-wal, byte for byte. */
import { afterEach, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openControlDatabase } from "./control-database.ts";
import { DeviceStore } from "./device-store.ts";
import { SessionStore } from "./session-store.ts";
import { SqliteDriver } from "./sqlite-driver.ts";
import { WalCheckpointer } from "./wal-checkpointer.ts";

/** An hour's lease, no extensions: only hand-out, end and expiry matter here. */
const lease = {
  durationSec: 3600,
  connectWindowSec: 120,
  extensionSec: 0,
  maxExtensions: 0,
  maxTotalSec: 3600,
};
const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** Every byte of the database and its WAL, as an attacker who copies the data directory gets them. */
function diskBytes(path: string): Buffer {
  const parts = [path, `${path}-wal`, `${path}-journal`].filter(existsSync).map((p) => readFileSync(p));
  return Buffer.concat(parts);
}

function onDisk(path: string, secrets: string[]): string[] {
  const bytes = diskBytes(path);
  return secrets.filter((s) => bytes.includes(Buffer.from(s)));
}

/** checkpointEveryMs: the node's checkpoint thread beside the scrub (every millisecond, so the two collide). */
async function setup(checkpointEveryMs?: number) {
  const dir = mkdtempSync(join(tmpdir(), "pvrlink-scrub-"));
  dirs.push(dir);
  const path = join(dir, "control.db");
  const database = openControlDatabase(path);
  const db = new SqliteDriver(
    database,
    checkpointEveryMs === undefined
      ? {}
      : { checkpointer: WalCheckpointer.start(database, path, checkpointEveryMs) },
  );
  const devices = new DeviceStore(db);
  const a = (await devices.enroll("a")).id;
  const b = (await devices.enroll("b")).id;
  return { db, path, a, b, sessions: new SessionStore(db, lease) };
}

describe("scrubDeletedSecrets()", async () => {
  test("a live grant's password and key are on disk while pending, and gone once the callee took them", async () => {
    const { db, path, a, b, sessions } = await setup();
    const g = await sessions.issue(a, b, "live", 0, 1000);
    // The control: the test does find the secrets while the node must keep them.
    expect(onDisk(path, [g.password, g.key])).toEqual([g.password, g.key]);
    expect(await sessions.takePending(b, 2000)).toHaveLength(1);
    expect(onDisk(path, [g.password, g.key])).toEqual([]);
    await db.close();
    expect(onDisk(path, [g.password, g.key])).toEqual([]);
  });

  test("grants dropped by expiry and by a live session's end leave no trace either", async () => {
    const { db, path, a, b, sessions } = await setup();
    const expired = await sessions.issue(a, b, "live", 0, 1000);
    const ended = await sessions.issue(a, b, "live", 0, 1000);
    expect(onDisk(path, [expired.password, ended.key])).toHaveLength(2);
    await sessions.end(ended.id, { reporter: a, reason: "done", now: 1500 });
    expect(onDisk(path, [ended.password, ended.key])).toEqual([]);
    await sessions.sweep(1000 + 3600_000 + 1);
    expect(onDisk(path, [expired.password, expired.key])).toEqual([]);
    await db.close();
  });

  test("a scrub that meets the checkpoint thread's checkpoint waits for it, and the secrets still leave", async () => {
    const { db, path, a, b, sessions } = await setup(1);
    for (let round = 0; round < 20; round++) {
      const g = await sessions.issue(a, b, "live", 0, 1000);
      expect(onDisk(path, [g.password, g.key])).toEqual([g.password, g.key]);
      expect(await sessions.takePending(b, 2000)).toHaveLength(1);
      expect(onDisk(path, [g.password, g.key])).toEqual([]);
    }
    await db.close();
  });
});
