/** @module device_owner: which UDP node holds each device's NAT mapping, claimed with a compare-and-set on the keepalive time. */
import type { SqlDriver } from "../store/sql-driver.ts";

export interface DeviceOwner {
  nodeId: string;
  keepaliveAt: number;
}

/**
 * A UDP node claims a device when the device arrives at it (its first keepalive there, or the first after a
 * silence). The claim carries the keepalive's time and wins only over an older one, so a node that saw the
 * device last owns it, whatever order the writes reach the store in: a stale claim from a node the device has
 * left loses.
 */
export class DeviceOwnerStore {
  readonly #db: SqlDriver;

  constructor(db: SqlDriver) {
    this.#db = db;
  }

  /** True when this claim is now the record (it was newer than the one stored, or there was none). */
  async claim(deviceId: string, nodeId: string, keepaliveAt: number): Promise<boolean> {
    const r = await this.#db.run(
      `INSERT INTO device_owner (device_id, node_id, keepalive_at) VALUES (?, ?, ?)
       ON CONFLICT(device_id) DO UPDATE SET node_id = excluded.node_id, keepalive_at = excluded.keepalive_at
       WHERE device_owner.keepalive_at < excluded.keepalive_at`,
      [deviceId, nodeId, keepaliveAt],
    );
    return r.changes === 1;
  }

  ownerOf(deviceId: string): Promise<DeviceOwner | null> {
    return this.#db.get<DeviceOwner>(
      'SELECT node_id AS "nodeId", keepalive_at AS "keepaliveAt" FROM device_owner WHERE device_id = ?',
      [deviceId],
    );
  }
}
