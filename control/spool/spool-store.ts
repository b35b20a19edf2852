/** @module The spool: its index (one row per transfer, in the node's store on either backend) beside the bytes on a SpoolBlobs backend, with quota, expiry and durable progress. */
import { randomToken } from "../../crypto/random-token.ts";
import { ApiError } from "../errors/api-error.ts";
import type { SqlDriver, SqlQueries } from "../store/sql-driver.ts";
import type { ReconcileIndex, SpoolBlobs, StoredPart } from "./spool-blobs.ts";
import type { SpoolEntry, TransferKind } from "./spool-entry.ts";

export type { SpoolEntry, TransferKind } from "./spool-entry.ts";

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
  location: string;
  idempotency_key: string | null;
}

/**
 * pg_advisory_xact_lock key taken by every create on PostgreSQL, so the quota and cap checks and the insert are
 * one step across all nodes (sqlite's transactions are already one at a time). Creates are rare next to queries.
 */
const CREATE_LOCK = 0x7370_6f6c; // "spol"

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
    location: r.location,
  };
}

/** What a transfer is created from; `idempotencyKey` makes a retry of the same create return the same transfer. */
export interface CreateSpoolEntry {
  sessionId: string;
  senderId: string;
  recipientId: string;
  kind: TransferKind;
  size: number;
  label: string | null;
  ttlSec: number;
  quotaBytes: number;
  idempotencyKey?: string | null;
  /** Node-wide admission, run inside the create's transaction (SpoolCapacity.admitTransfer). */
  admit?: (q: SqlQueries) => Promise<void>;
}

/**
 * The index and the bytes together. Invariants: a row's `received` never exceeds what the backend durably
 * holds; `complete` is set only once received == size; an expired row is treated as absent even before the sweep.
 */
export class SpoolStore implements ReconcileIndex {
  readonly #db: SqlDriver;
  readonly blobs: SpoolBlobs;
  readonly #log: (msg: string) => void;

  /** blobs builds the backend over this index (the S3 backend reads its part list from it). */
  constructor(
    db: SqlDriver,
    blobs: (index: SpoolStore) => SpoolBlobs,
    log: (msg: string) => void = () => {},
  ) {
    this.#db = db;
    this.blobs = blobs(this);
    this.#log = log;
  }

  /**
   * True when this node's backend holds e's bytes. On a shared (PostgreSQL) store, only rows at its own location;
   * on the embedded sqlite store the one node holds every filesystem row, whatever host or directory it was
   * written under (a restored backup, a moved data directory); '' rows predate locations.
   */
  holds(e: SpoolEntry): boolean {
    if (e.location === this.blobs.location) return true;
    if (this.blobs.kind !== "file") return false;
    return e.location === "" || (this.#db.kind === "sqlite" && e.location.startsWith("file:"));
  }

  /** Brings index and backend into agreement after a restart (or a kill -9). */
  recover(): Promise<{ orphans: number; shortened: number }> {
    return this.blobs.reconcile(this);
  }

  async ids(): Promise<Set<string>> {
    const rows = await this.#db.all<{ id: string }>("SELECT id FROM spool_transfers");
    return new Set(rows.map((r) => r.id));
  }

  async held(): Promise<SpoolEntry[]> {
    const rows = await this.#db.all<Row>("SELECT * FROM spool_transfers");
    return rows.map(toEntry).filter((e) => this.holds(e));
  }

  async lowerReceived(id: string, received: number): Promise<void> {
    await this.#db.transaction(async (tx) => {
      await tx.run("UPDATE spool_transfers SET received = ?, complete = 0 WHERE id = ? AND received > ?", [
        received,
        id,
        received,
      ]);
      await tx.run("DELETE FROM spool_parts WHERE transfer_id = ? AND start + size > ?", [id, received]);
    });
    this.#log(`spool: ${id} holds only ${received} bytes; marked incomplete`);
  }

  /** Bytes reserved by a device's live transfers (declared sizes, not yet acknowledged or expired). */
  async reservedBy(senderId: string, now: number, q: SqlQueries = this.#db): Promise<number> {
    const r = await q.get<{ total: number | null }>(
      "SELECT CAST(SUM(size) AS BIGINT) AS total FROM spool_transfers WHERE sender_id = ? AND expires_at > ?",
      [senderId, now],
    );
    return Number(r?.total ?? 0);
  }

  /**
   * Creates an entry after the quota (and `admit`) checks, in one transaction. With an idempotency key already
   * used by this sender, answers that transfer instead (`created: false`) when the request matches it, and
   * 409 idempotency_key_reused when it does not.
   */
  async create(o: CreateSpoolEntry, now: number): Promise<{ entry: SpoolEntry; created: boolean }> {
    return this.#db.transaction(async (tx) => {
      if (this.#db.kind === "postgres") await tx.get("SELECT pg_advisory_xact_lock(?)", [CREATE_LOCK]);
      const key = o.idempotencyKey ?? null;
      if (key !== null) {
        const prior = await tx.get<Row>(
          "SELECT * FROM spool_transfers WHERE sender_id = ? AND idempotency_key = ?",
          [o.senderId, key],
        );
        if (prior) {
          const same = prior.session_id === o.sessionId && prior.size === o.size && prior.kind === o.kind;
          if (!same) {
            throw new ApiError(
              409,
              "idempotency_key_reused",
              "Idempotency key was used for another transfer",
            );
          }
          if (prior.expires_at <= now)
            throw new ApiError(404, "transfer_not_found", "The transfer this key created has expired");
          return { entry: toEntry(prior), created: false };
        }
      }
      const reserved = await this.reservedBy(o.senderId, now, tx);
      if (reserved + o.size > o.quotaBytes) {
        throw new ApiError(
          507,
          "quota_exceeded",
          `Transfer of ${o.size} bytes would exceed the device quota`,
          {
            details: { reserved, quota: o.quotaBytes },
          },
        );
      }
      await o.admit?.(tx);
      const id = `tr_${randomToken(16)}`;
      await tx.run(
        `INSERT INTO spool_transfers (id, session_id, sender_id, recipient_id, kind, size, label, created_at,
           expires_at, location, idempotency_key)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        [
          id,
          o.sessionId,
          o.senderId,
          o.recipientId,
          o.kind,
          o.size,
          o.label,
          now,
          now + o.ttlSec * 1000,
          this.blobs.location,
          key,
        ],
      );
      const row = await tx.get<Row>("SELECT * FROM spool_transfers WHERE id = ?", [id]);
      return { entry: toEntry(row!), created: true };
    });
  }

  /** The entry, or null when absent or expired. */
  async get(id: string, now: number): Promise<SpoolEntry | null> {
    const r = await this.#db.get<Row>("SELECT * FROM spool_transfers WHERE id = ? AND expires_at > ?", [
      id,
      now,
    ]);
    return r ? toEntry(r) : null;
  }

  /**
   * Records durable progress from `from` to `received`: with a part (S3), the part's row and the new offset in
   * one transaction. The update holds only if the row is still at `from`, so of two nodes continuing the same
   * transfer only one advances it; the other gets 409 offset_mismatch.
   */
  async advance(id: string, o: { from: number; received: number; part?: StoredPart }): Promise<void> {
    await this.#db.transaction(async (tx) => {
      const res = await tx.run(
        "UPDATE spool_transfers SET received = ? WHERE id = ? AND complete = 0 AND received = ?",
        [o.received, id, o.from],
      );
      if (res.changes !== 1) {
        const now = await tx.get<{ received: number }>("SELECT received FROM spool_transfers WHERE id = ?", [
          id,
        ]);
        if (!now) throw new ApiError(404, "transfer_not_found", "Transfer was removed during the upload");
        throw new ApiError(
          409,
          "offset_mismatch",
          `Node holds ${now.received} bytes; resume at that offset`,
          {
            details: { received: now.received },
          },
        );
      }
      if (o.part) {
        await tx.run(
          "INSERT INTO spool_parts (transfer_id, part, start, size, object_key) VALUES (?, ?, ?, ?, ?)",
          [id, o.part.part, o.part.start, o.part.size, o.part.objectKey],
        );
      }
    });
  }

  /** The stored parts of a transfer, in order (S3 backend). */
  async parts(id: string): Promise<StoredPart[]> {
    const rows = await this.#db.all<{ part: number; start: number; size: number; object_key: string }>(
      "SELECT part, start, size, object_key FROM spool_parts WHERE transfer_id = ? ORDER BY part",
      [id],
    );
    return rows.map((r) => ({ part: r.part, start: r.start, size: r.size, objectKey: r.object_key }));
  }

  async markComplete(id: string, sha256: string | null): Promise<void> {
    await this.#db.run(
      "UPDATE spool_transfers SET complete = 1, sha256 = ? WHERE id = ? AND received = size",
      [sha256, id],
    );
  }

  /** Deletes the bytes, then the row; a crash between the two leaves a row whose bytes reconcile reads as gone. */
  async remove(id: string): Promise<void> {
    await this.blobs.remove(id);
    await this.#db.transaction(async (tx) => {
      await tx.run("DELETE FROM spool_parts WHERE transfer_id = ?", [id]);
      await tx.run("DELETE FROM spool_transfers WHERE id = ?", [id]);
    });
  }

  /** Every unexpired entry, newest first (the operator's view). */
  async all(now: number, limit = 1000): Promise<SpoolEntry[]> {
    const rows = await this.#db.all<Row>(
      "SELECT * FROM spool_transfers WHERE expires_at > ? ORDER BY created_at DESC LIMIT ?",
      [now, limit],
    );
    return rows.map(toEntry);
  }

  /** Complete stored transfers waiting for a recipient, oldest first. */
  async inbox(recipientId: string, now: number): Promise<SpoolEntry[]> {
    const rows = await this.#db.all<Row>(
      `SELECT * FROM spool_transfers WHERE recipient_id = ? AND kind = 'store' AND complete = 1 AND expires_at > ?
       ORDER BY created_at`,
      [recipientId, now],
    );
    return rows.map(toEntry);
  }

  /** Incomplete unexpired transfers this node's backend holds (the abandoned-transfer sweep judges these). */
  async incomplete(now: number): Promise<SpoolEntry[]> {
    const rows = await this.#db.all<Row>(
      "SELECT * FROM spool_transfers WHERE complete = 0 AND expires_at > ? ORDER BY created_at",
      [now],
    );
    return rows.map(toEntry).filter((e) => this.holds(e));
  }

  /** Declared bytes of all live transfers, and of those the bytes still to come (SpoolCapacity). */
  async liveTotals(now: number, q: SqlQueries = this.#db): Promise<{ reserved: number; unwritten: number }> {
    const r = await q.get<{ reserved: number | null; unwritten: number | null }>(
      `SELECT CAST(SUM(size) AS BIGINT) AS reserved,
              CAST(SUM(CASE WHEN complete = 0 THEN size - received ELSE 0 END) AS BIGINT) AS unwritten
       FROM spool_transfers WHERE expires_at > ?`,
      [now],
    );
    return { reserved: Number(r?.reserved ?? 0), unwritten: Number(r?.unwritten ?? 0) };
  }

  /**
   * What an S3 spool holds, from the index (objects and their bytes): null for the filesystem, whose directory
   * is measured as it is (admin-routes.ts spoolUsage), stray files included.
   */
  async storedUsage(): Promise<{ files: number; bytes: number } | null> {
    if (this.blobs.kind !== "s3") return null;
    const r = await this.#db.get<{ files: number | null; bytes: number | null }>(
      "SELECT CAST(COUNT(*) AS BIGINT) AS files, CAST(SUM(size) AS BIGINT) AS bytes FROM spool_parts",
    );
    return { files: Number(r?.files ?? 0), bytes: Number(r?.bytes ?? 0) };
  }

  /** Deletes expired entries this node holds and their bytes, except those in `busy`; returns their ids. */
  async sweepExpired(now: number, busy: ReadonlySet<string> = new Set()): Promise<string[]> {
    const rows = await this.#db.all<Row>("SELECT * FROM spool_transfers WHERE expires_at <= ?", [now]);
    const ids = rows
      .map(toEntry)
      .filter((e) => this.holds(e) && !busy.has(e.id))
      .map((e) => e.id);
    for (const id of ids) await this.remove(id);
    return ids;
  }
}
