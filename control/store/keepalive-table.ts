/** @module Each device's latest authenticated keepalive (its NAT mapping) and whether it counts as connected. */
import type { SqlDriver } from "./sql-driver.ts";

export interface KeepaliveRecord {
  address: string;
  port: number;
  intervalSec: number;
  at: number;
}

/** What the query and admin paths read: this table on a node with a UDP endpoint, the store on an HTTP node. */
export interface KeepaliveLookup {
  get(deviceId: string): KeepaliveRecord | null | Promise<KeepaliveRecord | null>;
  isConnected(deviceId: string): boolean | Promise<boolean>;
  forget?(deviceId: string): void;
}

/**
 * Rows per upsert statement: one statement per row cost more than the row itself (a bind, a step and a promise
 * each); 5 × 200 parameters stay under sqlite's and PostgreSQL's parameter limits.
 */
const FLUSH_ROWS = 200;

/** Upsert SQL texts by row count: a flush mostly reuses the full-size one, so each is built once. */
const upserts = new Map<number, string>();

/**
 * One statement upserting `rows` mappings, skipping devices deleted meanwhile (the EXISTS). The CASTs in the
 * first row give PostgreSQL the column types a bare VALUES list lacks; sqlite reads them as affinities. The
 * WHERE also settles sqlite's parse of INSERT ... SELECT ... ON CONFLICT (sqlite.org/lang_upsert.html, 2.2).
 */
function upsertSql(rows: number): string {
  let sql = upserts.get(rows);
  if (sql === undefined) {
    const first =
      "(CAST(? AS TEXT), CAST(? AS TEXT), CAST(? AS INTEGER), CAST(? AS INTEGER), CAST(? AS BIGINT))";
    const values = [first, ...Array.from({ length: rows - 1 }, () => "(?, ?, ?, ?, ?)")].join(", ");
    sql = `WITH v (device_id, address, port, interval_sec, at) AS (VALUES ${values}) INSERT INTO keepalives (device_id, address, port, interval_sec, at) SELECT device_id, address, port, interval_sec, at FROM v WHERE EXISTS (SELECT 1 FROM devices WHERE id = v.device_id) ON CONFLICT(device_id) DO UPDATE SET address = excluded.address, port = excluded.port, interval_sec = excluded.interval_sec, at = excluded.at`;
    upserts.set(rows, sql);
  }
  return sql;
}

/**
 * Keepalives arrive far more often than anything else (one per device every ~25 s), so they land in memory
 * and are written behind to the store in one transaction per flush; after a restart the table reloads, and a
 * mapping older than its freshness window simply reads as not connected.
 *
 * An unchanged mapping is written again only once its stored time is `connectedIntervals - 1` intervals old
 * (every third keepalive at the default of 3), not on every keepalive: after a crash the stored time is then at
 * most that old, so the device still reads as connected until its next keepalive is due, and the steady write
 * rate is a third of the keepalive rate. A clean shutdown (`flush({ final: true })`) writes every newer time.
 */
export class KeepaliveTable implements KeepaliveLookup {
  readonly #live = new Map<string, KeepaliveRecord>();
  readonly #dirty = new Set<string>();
  /** The `at` each device's stored row holds (as loaded or last written). */
  readonly #storedAt = new Map<string, number>();

  readonly #db: SqlDriver;
  /** A device is connected while now - at < connectedIntervals * intervalSec. */
  readonly #connectedIntervals: number;
  /**
   * Write a mapping only when it changes (a UDP node of a cluster: its PostgreSQL then takes one write per
   * NAT rebinding, not one per keepalive; liveness is the UDP node's own memory).
   */
  readonly #changesOnly: boolean;
  private constructor(db: SqlDriver, connectedIntervals: number, changesOnly = false) {
    this.#db = db;
    this.#connectedIntervals = connectedIntervals;
    this.#changesOnly = changesOnly;
  }

  /** An empty table that persists only changed mappings (a cluster's UDP node starts knowing no device). */
  static changesOnly(db: SqlDriver, connectedIntervals: number): KeepaliveTable {
    return new KeepaliveTable(db, connectedIntervals, true);
  }

  /** The table with every stored mapping loaded. */
  static async load(db: SqlDriver, connectedIntervals: number): Promise<KeepaliveTable> {
    const t = new KeepaliveTable(db, connectedIntervals);
    const rows = await db.all<{ device_id: string } & KeepaliveRecord>(
      'SELECT device_id, address, port, interval_sec AS "intervalSec", at FROM keepalives',
    );
    for (const r of rows) {
      t.#live.set(r.device_id, { address: r.address, port: r.port, intervalSec: r.intervalSec, at: r.at });
      t.#storedAt.set(r.device_id, r.at);
    }
    return t;
  }

  record(deviceId: string, address: string, port: number, intervalSec: number, now = Date.now()): void {
    const prev = this.#live.get(deviceId);
    this.#live.set(deviceId, { address, port, intervalSec, at: now });
    const same = prev?.address === address && prev.port === port && prev.intervalSec === intervalSec;
    if (!same) this.#dirty.add(deviceId);
    else if (!this.#changesOnly) {
      const stored = this.#storedAt.get(deviceId) ?? Number.NEGATIVE_INFINITY;
      if (now - stored >= (this.#connectedIntervals - 1) * intervalSec * 1000) this.#dirty.add(deviceId);
    }
  }

  get(deviceId: string): KeepaliveRecord | null {
    return this.#live.get(deviceId) ?? null;
  }

  isConnected(deviceId: string, now = Date.now()): boolean {
    const k = this.#live.get(deviceId);
    return k !== undefined && now - k.at < this.#connectedIntervals * k.intervalSec * 1000;
  }

  connectedCount(now = Date.now()): number {
    let n = 0;
    for (const id of this.#live.keys()) if (this.isConnected(id, now)) n++;
    return n;
  }

  forget(deviceId: string): void {
    this.#live.delete(deviceId);
    this.#dirty.delete(deviceId);
    this.#storedAt.delete(deviceId);
  }

  /**
   * Writes the changed mappings; devices deleted meanwhile are skipped by the EXISTS check. `final` (a clean
   * shutdown) also writes every mapping seen since its row was written, so a restart starts from exact times.
   */
  async flush(o: { final?: boolean } = {}): Promise<number> {
    if (o.final && !this.#changesOnly) {
      for (const [id, k] of this.#live) if (k.at !== this.#storedAt.get(id)) this.#dirty.add(id);
    }
    if (this.#dirty.size === 0) return 0;
    const ids = [...this.#dirty];
    this.#dirty.clear();
    // The times as written: a keepalive landing while an asynchronous store writes must not count as stored.
    const written = new Map<string, number>();
    try {
      await this.#db.transaction(async (tx) => {
        for (let at = 0; at < ids.length; at += FLUSH_ROWS) {
          const params: Array<string | number> = [];
          for (const id of ids.slice(at, at + FLUSH_ROWS)) {
            const k = this.#live.get(id);
            if (!k) continue;
            params.push(id, k.address, k.port, k.intervalSec, k.at);
            written.set(id, k.at);
          }
          if (params.length > 0) await tx.run(upsertSql(params.length / 5), params);
        }
      });
      for (const [id, at] of written) this.#storedAt.set(id, at);
    } catch (err) {
      // Still dirty: the next flush tries again (a full disk may have room by then).
      for (const id of ids) if (this.#live.has(id)) this.#dirty.add(id);
      throw err;
    }
    return ids.length;
  }
}
