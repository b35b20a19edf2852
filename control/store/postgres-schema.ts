/** @module The control core's tables on PostgreSQL: the sqlite schema (control-database.ts) in PostgreSQL's dialect, migrated under an advisory lock. */
import { accountingPerSessionMigration } from "./accounting-migration.ts";
import type { PostgresDriver } from "./postgres-driver.ts";

/**
 * Migrations on PostgreSQL, entry i from version i to i+1. Version 1 is the sqlite schema after all its
 * migrations, so a cluster starts at the current shape. Differences by design: ms timestamps and byte counts
 * are BIGINT; names, entries and keys compare bytewise (COLLATE "C", as sqlite's BINARY does, which the
 * "@group" range test in allow-list-store.ts relies on); the replay-nonce table is UNLOGGED (a crash empties
 * it, which reopens at most the 60 s clock window, the same trade-off as the disk-full fallback in
 * nonce-store.ts); and the group-name triggers are PL/pgSQL functions.
 */
export const POSTGRES_MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE devices (
    id TEXT COLLATE "C" PRIMARY KEY,
    name TEXT NOT NULL,
    name_key TEXT COLLATE "C" NOT NULL UNIQUE,
    secret BYTEA NOT NULL,
    policy TEXT NOT NULL DEFAULT 'node' CHECK (policy IN ('node', 'device')),
    created_at BIGINT NOT NULL
  );
  CREATE TABLE enrollment_tokens (
    token_hash TEXT PRIMARY KEY,
    expires_at BIGINT NOT NULL,
    used_by TEXT,
    name_attempts INTEGER NOT NULL DEFAULT 0
  );
  CREATE TABLE registrations (
    device_id TEXT COLLATE "C" PRIMARY KEY REFERENCES devices(id) ON DELETE CASCADE,
    address TEXT NOT NULL,
    port INTEGER NOT NULL,
    at BIGINT NOT NULL
  );
  CREATE TABLE keepalives (
    device_id TEXT COLLATE "C" PRIMARY KEY REFERENCES devices(id) ON DELETE CASCADE,
    address TEXT NOT NULL,
    port INTEGER NOT NULL,
    interval_sec INTEGER NOT NULL,
    at BIGINT NOT NULL
  );
  CREATE TABLE allow_entries (
    owner_id TEXT COLLATE "C" NOT NULL REFERENCES devices(id) ON DELETE CASCADE,
    entry TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (owner_id, entry)
  );
  CREATE TABLE groups (
    name_key TEXT COLLATE "C" PRIMARY KEY,
    owner_id TEXT COLLATE "C" NOT NULL REFERENCES devices(id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL
  );
  CREATE TABLE group_members (
    group_key TEXT COLLATE "C" NOT NULL REFERENCES groups(name_key) ON DELETE CASCADE,
    member_key TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (group_key, member_key)
  );
  CREATE INDEX group_members_by_member ON group_members(member_key);
  CREATE TABLE group_names (
    name_key TEXT COLLATE "C" PRIMARY KEY,
    owner_id TEXT NOT NULL
  );
  CREATE FUNCTION groups_bind_name() RETURNS trigger LANGUAGE plpgsql AS $$
  BEGIN
    INSERT INTO group_names (name_key, owner_id) VALUES (NEW.name_key, NEW.owner_id) ON CONFLICT DO NOTHING;
    RETURN NEW;
  END $$;
  CREATE TRIGGER groups_bind_name AFTER INSERT ON groups FOR EACH ROW EXECUTE FUNCTION groups_bind_name();
  CREATE FUNCTION groups_drop_references() RETURNS trigger LANGUAGE plpgsql AS $$
  BEGIN
    DELETE FROM allow_entries WHERE entry = '@' || OLD.name_key;
    RETURN OLD;
  END $$;
  CREATE TRIGGER groups_drop_references AFTER DELETE ON groups FOR EACH ROW EXECUTE FUNCTION groups_drop_references();
  CREATE TABLE sessions (
    id TEXT COLLATE "C" PRIMARY KEY,
    caller_id TEXT NOT NULL,
    callee_id TEXT NOT NULL,
    mode TEXT NOT NULL CHECK (mode IN ('live', 'store')),
    state TEXT NOT NULL CHECK (state IN ('active', 'ended')),
    started_at BIGINT NOT NULL,
    connect_by BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    duration_sec INTEGER NOT NULL,
    extensions INTEGER NOT NULL DEFAULT 0,
    end_reason TEXT,
    ended_at BIGINT,
    bytes_relay_node BIGINT NOT NULL DEFAULT 0,
    revoked_at BIGINT
  );
  CREATE INDEX sessions_by_state ON sessions(state, expires_at);
  CREATE INDEX sessions_by_caller ON sessions(caller_id);
  CREATE INDEX sessions_by_callee ON sessions(callee_id);
  CREATE TABLE pending_grants (
    session_id TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
    device_id TEXT NOT NULL,
    password TEXT NOT NULL,
    key TEXT NOT NULL,
    deliver_by BIGINT NOT NULL,
    PRIMARY KEY (session_id, device_id)
  );
  CREATE INDEX pending_grants_by_device ON pending_grants(device_id);
  CREATE TABLE accounting (
    seq BIGSERIAL PRIMARY KEY,
    session_id TEXT NOT NULL,
    reporter TEXT NOT NULL,
    caller_id TEXT NOT NULL,
    callee_id TEXT NOT NULL,
    started_at BIGINT NOT NULL,
    ended_at BIGINT NOT NULL,
    duration_ms BIGINT NOT NULL,
    bytes_direct BIGINT NOT NULL,
    bytes_relay BIGINT NOT NULL,
    reason TEXT NOT NULL,
    note TEXT,
    UNIQUE (session_id, reporter)
  );
  CREATE INDEX accounting_by_time ON accounting(ended_at);
  CREATE INDEX accounting_by_caller ON accounting(caller_id, ended_at);
  CREATE INDEX accounting_by_callee ON accounting(callee_id, ended_at);
  CREATE UNLOGGED TABLE nonces (
    device_id TEXT NOT NULL,
    nonce TEXT NOT NULL,
    seen_at BIGINT NOT NULL,
    PRIMARY KEY (device_id, nonce)
  );
  CREATE INDEX nonces_by_time ON nonces(seen_at);
  `,
  // Issue 16 item 2: which UDP node holds each device's NAT mapping (control/cluster/device-owner-store.ts).
  `
  CREATE TABLE device_owner (
    device_id TEXT COLLATE "C" PRIMARY KEY,
    node_id TEXT NOT NULL,
    keepalive_at BIGINT NOT NULL
  );
  `,
  // main's sqlite migrations after the cluster branch began: devices disabled by the operator (issue 18),
  // the path of a reporter's direct bytes (issue 15), and the recorders' identity keys (sqlite's "identity"
  // component, identity-key-store.ts).
  `
  ALTER TABLE devices ADD COLUMN disabled_at BIGINT;
  ALTER TABLE accounting ADD COLUMN direct_path TEXT;
  CREATE TABLE device_identity_keys (
    device_id TEXT COLLATE "C" PRIMARY KEY REFERENCES devices(id) ON DELETE CASCADE,
    public_key TEXT NOT NULL,
    published_at BIGINT NOT NULL
  );
  `,
  // Issue 17 item 4 (seed A variation 9): the callee's own one-time password; item 2 (seed B embodiment 1):
  // devices under policy "list" (control-database.ts says why it is a table beside devices.policy).
  `
  ALTER TABLE pending_grants ADD COLUMN callee_password TEXT;
  CREATE TABLE list_policy (device_id TEXT COLLATE "C" PRIMARY KEY REFERENCES devices(id) ON DELETE CASCADE);
  `,
  // Issue 16 item 4: the spool's index, shared by every HTTP node (control-database.ts says what the columns are).
  `
  CREATE TABLE spool_transfers (
    id              TEXT COLLATE "C" PRIMARY KEY,
    session_id      TEXT NOT NULL,
    sender_id       TEXT NOT NULL,
    recipient_id    TEXT NOT NULL,
    kind            TEXT NOT NULL CHECK (kind IN ('relay', 'store')),
    size            BIGINT NOT NULL CHECK (size > 0),
    received        BIGINT NOT NULL DEFAULT 0 CHECK (received >= 0 AND received <= size),
    complete        INTEGER NOT NULL DEFAULT 0 CHECK (complete IN (0, 1)),
    label           TEXT,
    sha256          TEXT,
    created_at      BIGINT NOT NULL,
    expires_at      BIGINT NOT NULL,
    location        TEXT NOT NULL DEFAULT '',
    idempotency_key TEXT
  );
  CREATE INDEX spool_transfers_recipient ON spool_transfers (recipient_id, kind, complete);
  CREATE INDEX spool_transfers_sender ON spool_transfers (sender_id);
  CREATE INDEX spool_transfers_expiry ON spool_transfers (expires_at);
  CREATE UNIQUE INDEX spool_transfers_idempotency ON spool_transfers (sender_id, idempotency_key)
    WHERE idempotency_key IS NOT NULL;
  CREATE TABLE spool_parts (
    transfer_id TEXT COLLATE "C" NOT NULL,
    part        INTEGER NOT NULL,
    start       BIGINT NOT NULL,
    size        BIGINT NOT NULL,
    object_key  TEXT NOT NULL,
    PRIMARY KEY (transfer_id, part)
  );
  `,
  // Issue 16 item 3: QUERY idempotency keys (control-database.ts).
  `
  ALTER TABLE sessions ADD COLUMN idempotency_key TEXT;
  ALTER TABLE sessions ADD COLUMN query_at BIGINT;
  CREATE INDEX sessions_by_idempotency ON sessions (caller_id, idempotency_key) WHERE idempotency_key IS NOT NULL;
  CREATE UNIQUE INDEX sessions_one_active_per_key ON sessions (caller_id, idempotency_key)
    WHERE idempotency_key IS NOT NULL AND state = 'active';
  `,
  // Issue 16: one accounting row per session (control-database.ts, accounting-migration.ts).
  accountingPerSessionMigration({ int: "BIGINT", id: 'TEXT COLLATE "C"' }),
  // The disabled devices, for the metrics scrape (control-database.ts).
  `
  CREATE INDEX devices_disabled ON devices(disabled_at) WHERE disabled_at IS NOT NULL;
  `,
];

const COMPONENT = "control";
/** pg_advisory_xact_lock key: nodes starting together migrate one after another. */
const MIGRATION_LOCK = 0x7076726c; // "pvrl"

/** Applies the pending PostgreSQL migrations; a database newer than the code is refused. */
export async function migratePostgres(
  db: PostgresDriver,
  migrations: readonly string[] = POSTGRES_MIGRATIONS,
): Promise<number> {
  for (;;) {
    const applied = await db.transaction(async (tx) => {
      // Under the lock even the bookkeeping table's creation: IF NOT EXISTS races between sessions.
      await tx.get("SELECT pg_advisory_xact_lock(?)", [MIGRATION_LOCK]);
      await tx.run(
        "CREATE TABLE IF NOT EXISTS schema_migrations (component TEXT PRIMARY KEY, version INTEGER NOT NULL)",
      );
      const row = await tx.get<{ version: number }>(
        "SELECT version FROM schema_migrations WHERE component = ?",
        [COMPONENT],
      );
      const current = row?.version ?? 0;
      if (current > migrations.length) {
        throw new RangeError(
          `Cannot open database: schema version ${current} of '${COMPONENT}' is newer than this build (${migrations.length})`,
        );
      }
      if (current === migrations.length) return null;
      await tx.script(migrations[current]!);
      await tx.run(
        "INSERT INTO schema_migrations (component, version) VALUES (?, ?) ON CONFLICT(component) DO UPDATE SET version = excluded.version",
        [COMPONENT, current + 1],
      );
      return current + 1;
    });
    if (applied === null) return migrations.length;
  }
}
