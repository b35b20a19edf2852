/** @module Tests for the per-session accounting migration: a database of the old (session, reporter) log upgrades in place, on sqlite (a file) and PostgreSQL. */
import { Database } from "bun:sqlite";
import { afterEach, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { storeBackend } from "../../test/support/store-backends.ts";
import { accountingPerSessionMigration } from "./accounting-migration.ts";
import { AccountingStore } from "./accounting-store.ts";
import { MIGRATIONS, migrate, openControlDatabase, schemaVersion } from "./control-database.ts";
import { PostgresDriver } from "./postgres-driver.ts";
import { migratePostgres, POSTGRES_MIGRATIONS } from "./postgres-schema.ts";
import type { SqlValue } from "./sql-driver.ts";
import { SqliteDriver } from "./sqlite-driver.ts";

/** The schema versions just before the accounting became one row per session. */
const SQLITE_OLD = MIGRATIONS.indexOf(accountingPerSessionMigration({ int: "INTEGER", id: "TEXT" }));
const POSTGRES_OLD = POSTGRES_MIGRATIONS.indexOf(
  accountingPerSessionMigration({ int: "BIGINT", id: 'TEXT COLLATE "C"' }),
);

type Run = (sql: string, params: SqlValue[]) => unknown;

/**
 * What an older node wrote, in its own statements: sessions, and their accounting rows in the order they came
 * (seq): ended by a peer with both reports; force-ended by the operator, then reported by the caller; superseded;
 * revoked; and a log row whose session row is missing.
 */
async function writeOldLog(run: Run): Promise<void> {
  const session = (
    id: string,
    mode: string,
    o: { reason: string; endedAt: number; relay: number; revokedAt?: number },
  ) =>
    run(
      "INSERT INTO sessions (id, caller_id, callee_id, mode, state, started_at, connect_by, expires_at, duration_sec, end_reason, ended_at, bytes_relay_node, revoked_at) VALUES (?, 'dev_a', 'dev_b', ?, 'ended', 1000, 2000, 9000, 8, ?, ?, ?, ?)",
      [id, mode, o.reason, o.endedAt, o.relay, o.revokedAt ?? null],
    );
  const row = (
    id: string,
    reporter: string,
    o: { reason: string; endedAt: number; direct: number; relay: number; note?: string; path?: string },
  ) =>
    run(
      "INSERT INTO accounting (session_id, reporter, caller_id, callee_id, started_at, ended_at, duration_ms, bytes_direct, bytes_relay, reason, note, direct_path) VALUES (?, ?, 'dev_a', 'dev_b', 1000, ?, ?, ?, ?, ?, ?, ?)",
      [
        id,
        reporter,
        o.endedAt,
        o.endedAt - 1000,
        o.direct,
        o.relay,
        o.reason,
        o.note ?? null,
        o.path ?? null,
      ],
    );
  await session("ses_done", "live", { reason: "done", endedAt: 5000, relay: 20 });
  await row("ses_done", "dev_a", {
    reason: "done",
    endedAt: 5000,
    direct: 10,
    relay: 20,
    note: "claim",
    path: "punched",
  });
  await row("ses_done", "dev_b", { reason: "peer ended", endedAt: 5000, direct: 12, relay: 0 });
  await session("ses_forced", "store", { reason: "maintenance", endedAt: 2000, relay: 300 });
  await row("ses_forced", "admin", { reason: "maintenance", endedAt: 2000, direct: 0, relay: 0 });
  await row("ses_forced", "dev_a", { reason: "ended", endedAt: 2000, direct: 0, relay: 300 });
  await session("ses_superseded", "live", { reason: "superseded", endedAt: 1500, relay: 0 });
  await row("ses_superseded", "node", { reason: "superseded", endedAt: 1500, direct: 0, relay: 0 });
  await session("ses_revoked", "live", { reason: "revoked", endedAt: 3000, relay: 0, revokedAt: 3000 });
  await row("ses_revoked", "node", { reason: "revoked", endedAt: 3000, direct: 0, relay: 0 });
  await row("ses_orphan", "dev_b", { reason: "done", endedAt: 4000, direct: 0, relay: 7 });
}

const PEER = { directPath: null, note: null };
const WANT = [
  {
    sessionId: "ses_superseded",
    mode: "live",
    reason: "superseded",
    endedBy: "node",
    revokedAt: null,
    bytesRelayNode: 0,
    caller: null,
    callee: null,
  },
  {
    sessionId: "ses_forced",
    mode: "store",
    reason: "maintenance",
    endedBy: "admin",
    bytesRelayNode: 300,
    caller: { ...PEER, reportedAt: 2000, reason: "ended", bytesDirect: 0, bytesRelay: 300 },
    callee: null,
  },
  {
    sessionId: "ses_revoked",
    reason: "revoked",
    endedBy: "node",
    revokedAt: 3000,
    caller: null,
    callee: null,
  },
  { sessionId: "ses_orphan", mode: null, endedBy: "dev_b", bytesRelayNode: 7, caller: null },
  {
    sessionId: "ses_done",
    callerId: "dev_a",
    calleeId: "dev_b",
    startedAt: 1000,
    endedAt: 5000,
    durationMs: 4000,
    reason: "done",
    endedBy: "dev_a",
    bytesRelayNode: 20,
    caller: {
      reportedAt: 5000,
      reason: "done",
      bytesDirect: 10,
      bytesRelay: 20,
      directPath: "punched",
      note: "claim",
    },
    callee: { ...PEER, reportedAt: 5000, reason: "peer ended", bytesDirect: 12, bytesRelay: 0 },
  },
];

describe("the per-session accounting migration on sqlite", () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  test("a database file of the old schema opens upgraded: one row per session, every report kept", async () => {
    const dir = mkdtempSync(join(tmpdir(), "pvrlink-acct-"));
    dirs.push(dir);
    const path = join(dir, "control.db");
    const old = new Database(path, { create: true, strict: true });
    migrate(old, MIGRATIONS.slice(0, SQLITE_OLD));
    expect(schemaVersion(old)).toBe(SQLITE_OLD);
    await writeOldLog((sql, params) => old.run(sql, params));
    old.close();

    await using db = new SqliteDriver(openControlDatabase(path));
    expect(schemaVersion(db.database)).toBe(MIGRATIONS.length);
    const log = await new AccountingStore(db).list({});
    expect(log).toMatchObject(WANT);
    expect(log).toHaveLength(WANT.length);
    // The upgraded table takes new writes: a migrated report repeated is recognised, another is refused.
    const end = {
      sessionId: "ses_done",
      callerId: "dev_a",
      calleeId: "dev_b",
      mode: "live" as const,
      startedAt: 1000,
      endedAt: 5000,
      reason: "done",
      endedBy: "dev_a",
      bytesRelayNode: 20,
    };
    const report = {
      reportedAt: 9000,
      reason: "peer ended",
      bytesDirect: 12,
      bytesRelay: 0,
      directPath: null,
    };
    const again = (r: typeof report) =>
      db.transaction((tx) => AccountingStore.recordReport(tx, end, { party: "callee", report: r }));
    expect(await again(report)).toBe("repeated");
    expect(await again({ ...report, bytesDirect: 13 })).toBe("conflicting");
    expect(await new AccountingStore(db).list({})).toEqual(log);
  });
});

describe("the per-session accounting migration on PostgreSQL", () => {
  const backend = storeBackend("postgres");

  test("a database of the old schema migrates: one row per session, every report kept", async () => {
    await using db = new PostgresDriver(await backend.freshSpec(""));
    await migratePostgres(db, POSTGRES_MIGRATIONS.slice(0, POSTGRES_OLD));
    await writeOldLog((sql, params) => db.run(sql, params));
    expect(await migratePostgres(db)).toBe(POSTGRES_MIGRATIONS.length);
    const log = await new AccountingStore(db).list({});
    expect(log).toMatchObject(WANT);
    expect(log).toHaveLength(WANT.length);
  });
});
