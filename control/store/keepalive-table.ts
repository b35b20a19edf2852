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
 * Keepalives arrive far more often than anything else (one per device every ~25 s), so they land in memory
 * and are written behind to the store in one transaction per flush; after a restart the table reloads, and a
 * mapping older than its freshness window simply reads as not connected.
 */
export class KeepaliveTable implements KeepaliveLookup {
  readonly #live = new Map<string, KeepaliveRecord>();
  readonly #dirty = new Set<string>();

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
    }
    return t;
  }

  record(deviceId: string, address: string, port: number, intervalSec: number, now = Date.now()): void {
    const prev = this.#live.get(deviceId);
    this.#live.set(deviceId, { address, port, intervalSec, at: now });
    const same = prev?.address === address && prev.port === port && prev.intervalSec === intervalSec;
    if (!(this.#changesOnly && same)) this.#dirty.add(deviceId);
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
  }

  /** Writes the changed mappings; devices deleted meanwhile are skipped by the EXISTS check. */
  async flush(): Promise<number> {
    if (this.#dirty.size === 0) return 0;
    const ids = [...this.#dirty];
    this.#dirty.clear();
    try {
      await this.#db.transaction(async (tx) => {
        for (const id of ids) {
          const k = this.#live.get(id);
          if (!k) continue;
          // CASTs give PostgreSQL the parameter types a bare SELECT list lacks; sqlite reads them as affinities.
          await tx.run(
            "INSERT INTO keepalives (device_id, address, port, interval_sec, at) SELECT CAST(?1 AS TEXT), CAST(?2 AS TEXT), CAST(?3 AS INTEGER), CAST(?4 AS INTEGER), CAST(?5 AS BIGINT) WHERE EXISTS (SELECT 1 FROM devices WHERE id = ?1) ON CONFLICT(device_id) DO UPDATE SET address = excluded.address, port = excluded.port, interval_sec = excluded.interval_sec, at = excluded.at",
            [id, k.address, k.port, k.intervalSec, k.at],
          );
        }
      });
    } catch (err) {
      // Still dirty: the next flush tries again (a full disk may have room by then).
      for (const id of ids) if (this.#live.has(id)) this.#dirty.add(id);
      throw err;
    }
    return ids.length;
  }
}
