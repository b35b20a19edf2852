/** @module The spool index: one sqlite row per transfer beside one file per transfer, with quota, expiry and durable progress. */
import type { Database } from "bun:sqlite";
import { closeSync, fsyncSync, openSync, readdirSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { randomToken } from "../../crypto/random-token.ts";
import { ApiError } from "../errors/api-error.ts";

export type TransferKind = "relay" | "store";

/** One spool entry as the index holds it. `received` counts bytes fsynced to the file and acknowledged. */
export interface SpoolEntry {
  readonly id: string;
  readonly sessionId: string;
  readonly senderId: string;
  readonly recipientId: string;
  readonly kind: TransferKind;
  readonly size: number;
  readonly received: number;
  readonly complete: boolean;
  readonly label: string | null;
  readonly sha256: string | null;
  readonly createdAt: number;
  readonly expiresAt: number;
}

interface Row {
  id: string;
  session_id: string;
  sender_id: string;
  recipient_id: string;
  kind: TransferKind;
  size: number;
  received: number;
  complete: number;
  label: string | null;
  sha256: string | null;
  created_at: number;
  expires_at: number;
}

const SCHEMA = `
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
`;

/** File name pattern of spool files; only files matching it are ever deleted from the spool directory. */
const FILE_PATTERN = /^tr_[A-Za-z0-9_-]{22}\.part$/;

function toEntry(r: Row): SpoolEntry {
  return {
    id: r.id,
    sessionId: r.session_id,
    senderId: r.sender_id,
    recipientId: r.recipient_id,
    kind: r.kind,
    size: r.size,
    received: r.received,
    complete: r.complete === 1,
    label: r.label,
    sha256: r.sha256,
    createdAt: r.created_at,
    expiresAt: r.expires_at,
  };
}

/**
 * The index and the files together. Invariants: a row's `received` never exceeds the fsynced length of its file;
 * `complete` is set only once received == size; an expired row is treated as absent even before the sweep.
 */
export class SpoolStore {
  readonly #db: Database;
  readonly dir: string;
  readonly #log: (msg: string) => void;

  constructor(db: Database, dir: string, log: (msg: string) => void = () => {}) {
    this.#db = db;
    this.dir = dir;
    this.#log = log;
    for (const stmt of SCHEMA.split(";")
      .map((s) => s.trim())
      .filter(Boolean))
      db.run(stmt);
  }

  pathOf(id: string): string {
    return join(this.dir, `${id}.part`);
  }

  /**
   * Brings index and files into agreement after a restart (or a kill -9): deletes spool files with no row, and
   * lowers `received` to what the file really holds (it can only be shorter after a power loss).
   */
  recover(): { orphans: number; shortened: number } {
    let orphans = 0;
    let shortened = 0;
    const ids = new Set(
      this.#db
        .query<{ id: string }, []>("SELECT id FROM spool_transfers")
        .all()
        .map((r) => r.id),
    );
    for (const name of readdirSync(this.dir)) {
      if (!FILE_PATTERN.test(name)) continue;
      if (!ids.has(name.slice(0, -".part".length))) {
        rmSync(join(this.dir, name), { force: true });
        orphans++;
      }
    }
    const rows = this.#db.query<Row, []>("SELECT * FROM spool_transfers WHERE received > 0").all();
    for (const r of rows) {
      let len = 0;
      try {
        len = statSync(this.pathOf(r.id)).size;
      } catch {
        len = 0;
      }
      if (len < r.received) {
        this.#db.run("UPDATE spool_transfers SET received = ?, complete = 0 WHERE id = ?", [len, r.id]);
        this.#log(`spool: ${r.id} holds ${len} of ${r.received} recorded bytes; marked incomplete`);
        shortened++;
      }
    }
    return { orphans, shortened };
  }

  /** Bytes reserved by a device's live transfers (declared sizes, not yet acknowledged or expired). */
  reservedBy(senderId: string, now: number): number {
    const r = this.#db
      .query<{ total: number | null }, [string, number]>(
        "SELECT SUM(size) AS total FROM spool_transfers WHERE sender_id = ? AND expires_at > ?",
      )
      .get(senderId, now);
    return r?.total ?? 0;
  }

  /** Creates an entry after the quota check, atomically (bun:sqlite is synchronous: nothing runs in between). */
  create(
    o: {
      sessionId: string;
      senderId: string;
      recipientId: string;
      kind: TransferKind;
      size: number;
      label: string | null;
      ttlSec: number;
      quotaBytes: number;
    },
    now: number,
  ): SpoolEntry {
    const reserved = this.reservedBy(o.senderId, now);
    if (reserved + o.size > o.quotaBytes) {
      throw new ApiError(507, "quota_exceeded", `Transfer of ${o.size} bytes would exceed the device quota`, {
        details: { reserved, quota: o.quotaBytes },
      });
    }
    const id = `tr_${randomToken(16)}`;
    this.#db.run(
      `INSERT INTO spool_transfers (id, session_id, sender_id, recipient_id, kind, size, label, created_at, expires_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      [id, o.sessionId, o.senderId, o.recipientId, o.kind, o.size, o.label, now, now + o.ttlSec * 1000],
    );
    return this.get(id, now)!;
  }

  /** The entry, or null when absent or expired. */
  get(id: string, now: number): SpoolEntry | null {
    const r = this.#db
      .query<Row, [string, number]>("SELECT * FROM spool_transfers WHERE id = ? AND expires_at > ?")
      .get(id, now);
    return r ? toEntry(r) : null;
  }

  /** Records durable progress. Call only after the file is fsynced up to `received`. */
  setReceived(id: string, received: number): void {
    const res = this.#db.run("UPDATE spool_transfers SET received = ? WHERE id = ? AND complete = 0", [
      received,
      id,
    ]);
    if (res.changes !== 1)
      throw new ApiError(404, "transfer_not_found", "Transfer was removed during the upload");
  }

  markComplete(id: string, sha256: string | null): void {
    this.#db.run("UPDATE spool_transfers SET complete = 1, sha256 = ? WHERE id = ? AND received = size", [
      sha256,
      id,
    ]);
  }

  /** Deletes file then row; a crash between the two leaves a row whose file recover() reads as empty. */
  remove(id: string): void {
    rmSync(this.pathOf(id), { force: true });
    this.#db.run("DELETE FROM spool_transfers WHERE id = ?", [id]);
  }

  /** Every unexpired entry, newest first (the operator's view). */
  all(now: number, limit = 1000): SpoolEntry[] {
    return this.#db
      .query<Row, [number, number]>(
        "SELECT * FROM spool_transfers WHERE expires_at > ? ORDER BY created_at DESC LIMIT ?",
      )
      .all(now, limit)
      .map(toEntry);
  }

  /** Complete stored transfers waiting for a recipient, oldest first. */
  inbox(recipientId: string, now: number): SpoolEntry[] {
    return this.#db
      .query<Row, [string, number]>(
        `SELECT * FROM spool_transfers WHERE recipient_id = ? AND kind = 'store' AND complete = 1 AND expires_at > ?
         ORDER BY created_at`,
      )
      .all(recipientId, now)
      .map(toEntry);
  }

  /** Deletes expired entries and their files, except those in `busy` (an upload holds them); returns their ids. */
  sweepExpired(now: number, busy: ReadonlySet<string> = new Set()): string[] {
    const ids = this.#db
      .query<{ id: string }, [number]>("SELECT id FROM spool_transfers WHERE expires_at <= ?")
      .all(now)
      .map((r) => r.id)
      .filter((id) => !busy.has(id));
    for (const id of ids) this.remove(id);
    return ids;
  }

  /** Makes a newly created file's directory entry durable (POSIX: fsync of the file alone does not). */
  syncDirectory(): void {
    let fd: number | undefined;
    try {
      fd = openSync(this.dir, "r");
      fsyncSync(fd);
    } catch {
      // Some filesystems refuse fsync on a directory; the data itself is still fsynced.
    } finally {
      if (fd !== undefined) closeSync(fd);
    }
  }
}
