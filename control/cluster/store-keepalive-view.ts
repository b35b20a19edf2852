/** @module An HTTP node's view of keepalives: the mappings UDP nodes wrote to the store, and "connected" as "some UDP node owns it". */
import type { KeepaliveLookup, KeepaliveRecord } from "../store/keepalive-table.ts";
import type { SqlDriver } from "../store/sql-driver.ts";
import type { DeviceOwnerStore } from "./device-owner-store.ts";

/**
 * An HTTP node holds no keepalive state. A device counts as connected here while a UDP node owns it; the
 * status trigger that follows in QUERY asks that node, which answers from its own memory, so a device whose
 * node died or whose mapping went stale still ends as callee_not_connected.
 */
export class StoreKeepaliveView implements KeepaliveLookup {
  readonly #db: SqlDriver;
  readonly #owners: DeviceOwnerStore;

  constructor(db: SqlDriver, owners: DeviceOwnerStore) {
    this.#db = db;
    this.#owners = owners;
  }

  get(deviceId: string): Promise<KeepaliveRecord | null> {
    return this.#db.get<KeepaliveRecord>(
      'SELECT address, port, interval_sec AS "intervalSec", at FROM keepalives WHERE device_id = ?',
      [deviceId],
    );
  }

  async isConnected(deviceId: string): Promise<boolean> {
    return (await this.#owners.ownerOf(deviceId)) !== null;
  }

  /** The owned devices not disabled, counted by the store: `disabled` is what its join reads from devices. */
  async connectedCount(_o: { disabled: ReadonlySet<string> }): Promise<number> {
    const r = await this.#db.get<{ n: number }>(
      "SELECT count(*) AS n FROM device_owner o JOIN devices d ON d.id = o.device_id WHERE d.disabled_at IS NULL",
    );
    return r!.n;
  }
}
