/** @module Each device's latest authenticated keepalive (its NAT mapping) and whether it counts as connected. */
import type { SqlDriver } from "./sql-driver.ts";

export interface KeepaliveRecord {
  address: string;
  port: number;
  intervalSec: number;
  at: number;
}

/** A device's mapping as the table holds it: the record, plus the `at` its stored row holds. */
interface LiveRecord extends KeepaliveRecord {
  storedAt: number;
}

/** What the query and admin paths read: this table on a node with a UDP endpoint, the store on an HTTP node. */
export interface KeepaliveLookup {
  get(deviceId: string): KeepaliveRecord | null | Promise<KeepaliveRecord | null>;
  isConnected(deviceId: string): boolean | Promise<boolean>;
  /**
   * How many devices count as connected, leaving out `disabled` ones: one pass over what the lookup holds, for a
   * scrape (a million awaited isConnected() calls held the event loop for over a second).
   */
  connectedCount(o: { disabled: ReadonlySet<string> }): number | Promise<number>;
  forget?(deviceId: string): void;
}

/**
 * Rows per upsert statement, and per step of a flush: one statement per row cost more than the row itself (a
 * bind, a step and a promise each); 5 × 200 parameters stay under sqlite's and PostgreSQL's parameter limits;
 * and a flush yields to the event loop between steps, so a burst of changed mappings (a UDP node's devices
 * arriving at once) does not hold up the keepalives being answered meanwhile.
 */
const FLUSH_ROWS = 200;

/** Upsert SQL texts by row count and kind: a flush mostly reuses the full-size ones, so each is built once. */
const upserts = new Map<string, string>();

/**
 * One statement upserting `rows` mappings. `checked` skips devices deleted meanwhile (the EXISTS); unchecked,
 * sqlite's foreign key refuses the whole statement instead, which the caller then runs checked. The CASTs in
 * the first row give PostgreSQL the column types a bare VALUES list lacks; sqlite reads them as affinities. The
 * WHERE also settles sqlite's parse of INSERT ... SELECT ... ON CONFLICT (sqlite.org/lang_upsert.html, 2.2).
 */
function upsertSql(rows: number, checked: boolean): string {
  const key = `${rows}${checked ? "c" : "u"}`;
  let sql = upserts.get(key);
  if (sql === undefined) {
    const first =
      "(CAST(? AS TEXT), CAST(? AS TEXT), CAST(? AS INTEGER), CAST(? AS INTEGER), CAST(? AS BIGINT))";
    const values = [first, ...Array.from({ length: rows - 1 }, () => "(?, ?, ?, ?, ?)")].join(", ");
    const where = checked ? "EXISTS (SELECT 1 FROM devices WHERE id = v.device_id)" : "true";
    sql = `WITH v (device_id, address, port, interval_sec, at) AS (VALUES ${values}) INSERT INTO keepalives (device_id, address, port, interval_sec, at) SELECT device_id, address, port, interval_sec, at FROM v WHERE ${where} ON CONFLICT(device_id) DO UPDATE SET address = excluded.address, port = excluded.port, interval_sec = excluded.interval_sec, at = excluded.at`;
    upserts.set(key, sql);
  }
  return sql;
}

/** sqlite's error for a row whose device is gone (SQLITE_CONSTRAINT_FOREIGNKEY, sqlite.org/rescode.html#constraint_foreignkey). */
function isForeignKeyError(err: unknown): boolean {
  return (err as { code?: unknown } | null)?.code === "SQLITE_CONSTRAINT_FOREIGNKEY";
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
  /** One record per device: its mapping, and the `at` its stored row holds (one lookup per keepalive, not two). */
  readonly #live = new Map<string, LiveRecord>();
  readonly #dirty = new Set<string>();
  /** The flush under way, if any. */
  #flushing: Promise<void> | null = null;

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
      t.#live.set(r.device_id, {
        address: r.address,
        port: r.port,
        intervalSec: r.intervalSec,
        at: r.at,
        storedAt: r.at,
      });
    }
    return t;
  }

  record(deviceId: string, address: string, port: number, intervalSec: number, now = Date.now()): void {
    const prev = this.#live.get(deviceId);
    const same = prev?.address === address && prev.port === port && prev.intervalSec === intervalSec;
    if (!same) {
      const storedAt = prev?.storedAt ?? Number.NEGATIVE_INFINITY;
      this.#live.set(deviceId, { address, port, intervalSec, at: now, storedAt });
      this.#dirty.add(deviceId);
    } else {
      // The usual keepalive moves only the time: in place, no record allocated and no Map write.
      prev.at = now;
      if (this.#changesOnly) return;
      if (now - prev.storedAt >= (this.#connectedIntervals - 1) * intervalSec * 1000)
        this.#dirty.add(deviceId);
    }
  }

  /** A copy: the record itself changes in place, and its storedAt is this table's business. */
  get(deviceId: string): KeepaliveRecord | null {
    const k = this.#live.get(deviceId);
    return k === undefined
      ? null
      : { address: k.address, port: k.port, intervalSec: k.intervalSec, at: k.at };
  }

  isConnected(deviceId: string, now = Date.now()): boolean {
    const k = this.#live.get(deviceId);
    return k !== undefined && this.#fresh(k, now);
  }

  /** A mapping counts as connected while fresher than connectedIntervals of its own keepalive interval. */
  #fresh(k: LiveRecord, now: number): boolean {
    return now - k.at < this.#connectedIntervals * k.intervalSec * 1000;
  }

  connectedCount(o: { disabled: ReadonlySet<string>; now?: number }): number {
    const now = o.now ?? Date.now();
    let n = 0;
    for (const [id, k] of this.#live) {
      if (this.#fresh(k, now) && !o.disabled.has(id)) n++;
    }
    return n;
  }

  forget(deviceId: string): void {
    this.#live.delete(deviceId);
    this.#dirty.delete(deviceId);
  }

  /** Writes one step's mappings (one statement, atomic by itself) and notes the times as written. */
  async #write(ids: readonly string[]): Promise<void> {
    const params: Array<string | number> = [];
    // The times as written: a keepalive landing while an asynchronous store writes must not count as stored.
    const written = new Map<string, number>();
    for (const id of ids) {
      const k = this.#live.get(id);
      if (!k) continue;
      params.push(id, k.address, k.port, k.intervalSec, k.at);
      written.set(id, k.at);
    }
    if (written.size === 0) return;
    // On sqlite the foreign key already refuses a deleted device, so the usual statement skips the EXISTS (half
    // of a row's cost) and a refused one runs again checked. PostgreSQL would abort the transaction instead.
    if (this.#db.kind === "sqlite") {
      try {
        await this.#db.run(upsertSql(written.size, false), params);
      } catch (err) {
        if (!isForeignKeyError(err)) throw err;
        await this.#db.run(upsertSql(written.size, true), params);
      }
    } else await this.#db.run(upsertSql(written.size, true), params);
    for (const [id, at] of written) {
      const k = this.#live.get(id);
      if (k !== undefined) k.storedAt = at;
    }
  }

  /**
   * Writes the changed mappings, FLUSH_ROWS per step; devices deleted meanwhile are skipped. `final` (a clean
   * shutdown) also writes every mapping seen since its row was written, so a restart starts from exact times.
   */
  async flush(o: { final?: boolean } = {}): Promise<number> {
    // One flush at a time: a long one (it yields between steps) must not meet the timer's next one halfway.
    while (this.#flushing) await this.#flushing;
    const run = this.#flushOnce(o);
    this.#flushing = run.then(
      () => undefined,
      () => undefined,
    );
    try {
      return await run;
    } finally {
      this.#flushing = null;
    }
  }

  async #flushOnce(o: { final?: boolean }): Promise<number> {
    if (o.final && !this.#changesOnly) {
      for (const [id, k] of this.#live) if (k.at !== k.storedAt) this.#dirty.add(id);
    }
    if (this.#dirty.size === 0) return 0;
    const ids = [...this.#dirty];
    this.#dirty.clear();
    let done = 0;
    try {
      for (; done < ids.length; done += FLUSH_ROWS) {
        if (done > 0) await new Promise((resolve) => setImmediate(resolve));
        await this.#write(ids.slice(done, done + FLUSH_ROWS));
      }
    } catch (err) {
      // Still dirty: the next flush tries again (a full disk may have room by then).
      for (const id of ids.slice(done)) if (this.#live.has(id)) this.#dirty.add(id);
      throw err;
    }
    return ids.length;
  }
}
