/** @module Opens the control node's sqlite database (WAL) and applies its versioned migrations. */

import { Database } from "bun:sqlite";
import { chmodSync, existsSync } from "node:fs";
import { accountingPerSessionMigration } from "./accounting-migration.ts";
import { IDENTITY_COMPONENT, IDENTITY_MIGRATIONS } from "./identity-key-store.ts";

/**
 * Migrations of the control core's tables, in order; entry i brings the schema from version i to i+1.
 * Applied once each, inside a transaction, and recorded in schema_migrations under the component name
 * "control", so other components sharing the file (control/relay, control/spool) keep their own versions.
 */
export const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE devices (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    name_key TEXT NOT NULL UNIQUE,
    secret BLOB NOT NULL,
    policy TEXT NOT NULL DEFAULT 'node' CHECK (policy IN ('node', 'device')),
    created_at INTEGER NOT NULL
  );
  CREATE TABLE enrollment_tokens (
    token_hash TEXT PRIMARY KEY,
    expires_at INTEGER NOT NULL,
    used_by TEXT
  );
  CREATE TABLE registrations (
    device_id TEXT PRIMARY KEY REFERENCES devices(id) ON DELETE CASCADE,
    address TEXT NOT NULL,
    port INTEGER NOT NULL,
    at INTEGER NOT NULL
  );
  CREATE TABLE keepalives (
    device_id TEXT PRIMARY KEY REFERENCES devices(id) ON DELETE CASCADE,
    address TEXT NOT NULL,
    port INTEGER NOT NULL,
    interval_sec INTEGER NOT NULL,
    at INTEGER NOT NULL
  );
  CREATE TABLE allow_entries (
    owner_id TEXT NOT NULL REFERENCES devices(id) ON DELETE CASCADE,
    entry TEXT NOT NULL,
    PRIMARY KEY (owner_id, entry)
  ) WITHOUT ROWID;
  CREATE TABLE groups (
    name_key TEXT PRIMARY KEY,
    owner_id TEXT NOT NULL REFERENCES devices(id) ON DELETE CASCADE,
    created_at INTEGER NOT NULL
  );
  CREATE TABLE group_members (
    group_key TEXT NOT NULL REFERENCES groups(name_key) ON DELETE CASCADE,
    member_key TEXT NOT NULL,
    PRIMARY KEY (group_key, member_key)
  ) WITHOUT ROWID;
  CREATE INDEX group_members_by_member ON group_members(member_key);
  CREATE TABLE sessions (
    id TEXT PRIMARY KEY,
    caller_id TEXT NOT NULL,
    callee_id TEXT NOT NULL,
    mode TEXT NOT NULL CHECK (mode IN ('live', 'store')),
    state TEXT NOT NULL CHECK (state IN ('active', 'ended')),
    started_at INTEGER NOT NULL,
    connect_by INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    duration_sec INTEGER NOT NULL,
    extensions INTEGER NOT NULL DEFAULT 0,
    end_reason TEXT,
    ended_at INTEGER,
    bytes_relay_node INTEGER NOT NULL DEFAULT 0
  );
  CREATE INDEX sessions_by_state ON sessions(state, expires_at);
  -- The callee's copy of a session's password and key, until it fetches it once; then the row is deleted.
  CREATE TABLE pending_grants (
    session_id TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
    device_id TEXT NOT NULL,
    password TEXT NOT NULL,
    key TEXT NOT NULL,
    deliver_by INTEGER NOT NULL,
    PRIMARY KEY (session_id, device_id)
  );
  CREATE INDEX pending_grants_by_device ON pending_grants(device_id);
  CREATE TABLE accounting (
    seq INTEGER PRIMARY KEY,
    session_id TEXT NOT NULL,
    reporter TEXT NOT NULL,
    caller_id TEXT NOT NULL,
    callee_id TEXT NOT NULL,
    started_at INTEGER NOT NULL,
    ended_at INTEGER NOT NULL,
    duration_ms INTEGER NOT NULL,
    bytes_direct INTEGER NOT NULL,
    bytes_relay INTEGER NOT NULL,
    reason TEXT NOT NULL,
    UNIQUE (session_id, reporter)
  );
  CREATE INDEX accounting_by_time ON accounting(ended_at);
  CREATE INDEX accounting_by_caller ON accounting(caller_id, ended_at);
  CREATE INDEX accounting_by_callee ON accounting(callee_id, ended_at);
  CREATE TABLE nonces (
    device_id TEXT NOT NULL,
    nonce TEXT NOT NULL,
    seen_at INTEGER NOT NULL,
    PRIMARY KEY (device_id, nonce)
  ) WITHOUT ROWID;
  CREATE INDEX nonces_by_time ON nonces(seen_at);
  `,
  // Issue 21 item 1: a group name is bound to its first owner for good (group_names outlives the group), and
  // deleting a group, also by its owner's deletion cascading, removes every "@name" that referenced it in the
  // same transaction, so no later group of that name can inherit a permission.
  `
  CREATE TABLE group_names (
    name_key TEXT PRIMARY KEY,
    owner_id TEXT NOT NULL
  ) WITHOUT ROWID;
  INSERT OR IGNORE INTO group_names (name_key, owner_id) SELECT name_key, owner_id FROM groups;
  CREATE TRIGGER groups_bind_name AFTER INSERT ON groups BEGIN
    INSERT OR IGNORE INTO group_names (name_key, owner_id) VALUES (new.name_key, new.owner_id);
  END;
  CREATE TRIGGER groups_drop_references AFTER DELETE ON groups BEGIN
    DELETE FROM allow_entries WHERE entry = '@' || old.name_key;
  END;
  `,
  // Issue 21 item 3: when the node ended a session because its permission went (list edit, device removed).
  `
  ALTER TABLE sessions ADD COLUMN revoked_at INTEGER;
  `,
  // Issue 21 item 4: what the node could not check in a peer's reported figures, said in the log itself.
  `
  ALTER TABLE accounting ADD COLUMN note TEXT;
  `,
  // Issue 21 item 10: names an enrollment token was refused for (name_taken), so it cannot probe without end.
  `
  ALTER TABLE enrollment_tokens ADD COLUMN name_attempts INTEGER NOT NULL DEFAULT 0;
  `,
  // The operator's console and CLI disable a device without removing it (issue 18): it keeps its name
  // and history, and its secret stops authenticating until enabled again.
  `ALTER TABLE devices ADD COLUMN disabled_at INTEGER;`,
  // Issue 15: which path carried a reporter's direct bytes (lan, port-forward, punched); NULL when none.
  `ALTER TABLE accounting ADD COLUMN direct_path TEXT;`,
  // Issue 17 item 4 (seed A variation 9): the callee's own one-time password, which the caller verifies.
  `
  ALTER TABLE pending_grants ADD COLUMN callee_password TEXT;
  `,
  // Issue 17 item 2 (seed B embodiment 1): devices under policy "list" (devices.policy stays 'device' for the
  // CHECK constraint; a row here makes it "list": the device sends its list on each query, the node judges).
  `
  CREATE TABLE list_policy (device_id TEXT PRIMARY KEY REFERENCES devices(id) ON DELETE CASCADE);
  `,
  // Issue 16 item 2: which UDP node holds each device's NAT mapping (control/cluster/device-owner-store.ts).
  `
  CREATE TABLE device_owner (
    device_id TEXT PRIMARY KEY,
    node_id TEXT NOT NULL,
    keepalive_at INTEGER NOT NULL
  );
  `,
  // Issue 16 item 4: the spool's index is a table of the store (it was created beside the files by the spool
  // itself, hence IF NOT EXISTS: a database from before keeps its rows). `location` names where a transfer's
  // bytes are (a filesystem spool's "file:HOST:DIR", or "s3"), so a node reconciles only its own files; ''
  // is a row from before, held by the one node there was. spool_parts lists the stored parts of a transfer on
  // S3 (control/spool/s3-blobs.ts). idempotency_key makes a retried create return the same transfer.
  `
  CREATE TABLE IF NOT EXISTS spool_transfers (
    id           TEXT PRIMARY KEY,
    session_id   TEXT NOT NULL,
    sender_id    TEXT NOT NULL,
    recipient_id TEXT NOT NULL,
    kind         TEXT NOT NULL CHECK (kind IN ('relay', 'store')),
    size         INTEGER NOT NULL CHECK (size > 0),
    received     INTEGER NOT NULL DEFAULT 0 CHECK (received >= 0 AND received <= size),
    complete     INTEGER NOT NULL DEFAULT 0 CHECK (complete IN (0, 1)),
    label        TEXT,
    sha256       TEXT,
    created_at   INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL
  );
  CREATE INDEX IF NOT EXISTS spool_transfers_recipient ON spool_transfers (recipient_id, kind, complete);
  CREATE INDEX IF NOT EXISTS spool_transfers_sender ON spool_transfers (sender_id);
  CREATE INDEX IF NOT EXISTS spool_transfers_expiry ON spool_transfers (expires_at);
  ALTER TABLE spool_transfers ADD COLUMN location TEXT NOT NULL DEFAULT '';
  ALTER TABLE spool_transfers ADD COLUMN idempotency_key TEXT;
  CREATE UNIQUE INDEX spool_transfers_idempotency ON spool_transfers (sender_id, idempotency_key)
    WHERE idempotency_key IS NOT NULL;
  CREATE TABLE spool_parts (
    transfer_id TEXT NOT NULL,
    part        INTEGER NOT NULL,
    start       INTEGER NOT NULL,
    size        INTEGER NOT NULL,
    object_key  TEXT NOT NULL,
    PRIMARY KEY (transfer_id, part)
  );
  `,
  // Issue 16 item 3: a QUERY retried with the same idempotency key supersedes the earlier session
  // (control/store/superseded-sessions.ts); query_at orders the attempts, and at most one is active per key.
  `
  ALTER TABLE sessions ADD COLUMN idempotency_key TEXT;
  ALTER TABLE sessions ADD COLUMN query_at INTEGER;
  CREATE INDEX sessions_by_idempotency ON sessions (caller_id, idempotency_key) WHERE idempotency_key IS NOT NULL;
  CREATE UNIQUE INDEX sessions_one_active_per_key ON sessions (caller_id, idempotency_key)
    WHERE idempotency_key IS NOT NULL AND state = 'active';
  `,
  // Issue 16: one accounting row per session, the node's figures and each peer's report merged by UPSERT
  // (control/store/accounting-store.ts); the rows of one per (session, reporter) are folded in.
  accountingPerSessionMigration({ int: "INTEGER", id: "TEXT" }),
  // A sqlite node's replay nonces become a log in arrival order, checked in memory (control/store/nonce-store.ts):
  // no key but the rowid, so each insert lands on the last page instead of a random one. The window's rows move over.
  `
  CREATE TABLE nonce_log (
    seen_at INTEGER NOT NULL,
    device_id TEXT NOT NULL,
    nonce TEXT NOT NULL
  );
  CREATE INDEX nonce_log_by_time ON nonce_log(seen_at);
  INSERT INTO nonce_log (seen_at, device_id, nonce) SELECT seen_at, device_id, nonce FROM nonces ORDER BY seen_at;
  DROP TABLE nonces;
  `,
  // The metrics scrape names the disabled devices (control/ops/device-state-counts.ts): a partial index holds
  // only those, so the read is O(disabled), not a scan of every device (90 ms at a million).
  `
  CREATE INDEX devices_disabled ON devices(disabled_at) WHERE disabled_at IS NOT NULL;
  `,
];

const COMPONENT = "control";

/** The schema version the database is at for component after migrating. */
export function schemaVersion(db: Database, component = COMPONENT): number {
  const row = db
    .query<{ version: number }, [string]>("SELECT version FROM schema_migrations WHERE component = ?")
    .get(component);
  return row?.version ?? 0;
}

/** Applies the pending migrations of one component; a database newer than the code is refused. */
export function migrate(
  db: Database,
  migrations: readonly string[] = MIGRATIONS,
  component = COMPONENT,
): void {
  db.run(
    "CREATE TABLE IF NOT EXISTS schema_migrations (component TEXT PRIMARY KEY, version INTEGER NOT NULL)",
  );
  const current = schemaVersion(db, component);
  if (current > migrations.length) {
    throw new RangeError(
      `Cannot open database: schema version ${current} of '${component}' is newer than this build (${migrations.length})`,
    );
  }
  for (let v = current; v < migrations.length; v++) {
    db.transaction(() => {
      db.run(migrations[v]!);
      db.run(
        "INSERT INTO schema_migrations (component, version) VALUES (?, ?) ON CONFLICT(component) DO UPDATE SET version = excluded.version",
        [component, v + 1],
      );
    })();
  }
}

/**
 * Opens path (":memory:" in unit tests) with WAL and synchronous=NORMAL, the usual durable-on-commit
 * trade-off for WAL: a crash loses no committed transaction, a power cut may lose the last few.
 * The file holds device secrets, so it is created 0600.
 */
export function openControlDatabase(path: string): Database {
  const fresh = path !== ":memory:" && !existsSync(path);
  const db = new Database(path, { create: true, strict: true });
  if (fresh) chmodSync(path, 0o600);
  db.run("PRAGMA journal_mode = WAL");
  db.run("PRAGMA synchronous = NORMAL");
  db.run("PRAGMA foreign_keys = ON");
  db.run("PRAGMA busy_timeout = 5000");
  // Deleted one-time passwords and keys are overwritten with zeros, not left in free pages (issue 13).
  db.run("PRAGMA secure_delete = ON");
  migrate(db);
  migrate(db, IDENTITY_MIGRATIONS, IDENTITY_COMPONENT);
  return db;
}
