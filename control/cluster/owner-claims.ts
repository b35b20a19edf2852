/** @module A UDP node's keepalive sink in a cluster: record the mapping, and claim the device in device_owner when it arrives here. */
import type { KeepaliveTable } from "../store/keepalive-table.ts";
import type { DeviceOwnerStore } from "./device-owner-store.ts";

/** A keepalive after a silence longer than this many intervals counts as an arrival (the device may have moved). */
const ARRIVAL_GAP_INTERVALS = 1.5;

/**
 * device_owner is written only when a device arrives (its first keepalive at this node, or the first after a
 * gap), not on every keepalive, so steady state costs PostgreSQL nothing per keepalive. A claim that fails (the
 * store unreachable) is retried on the next keepalive.
 */
export class OwnerClaims {
  readonly #owners: DeviceOwnerStore;
  readonly #nodeId: string;
  readonly #table: KeepaliveTable;
  readonly #log: (msg: string) => void;
  readonly #claimed = new Set<string>();

  constructor(o: {
    owners: DeviceOwnerStore;
    nodeId: string;
    table: KeepaliveTable;
    log: (msg: string) => void;
  }) {
    this.#owners = o.owners;
    this.#nodeId = o.nodeId;
    this.#table = o.table;
    this.#log = o.log;
  }

  onKeepalive(deviceId: string, address: string, port: number, intervalSec: number, now = Date.now()): void {
    const prev = this.#table.get(deviceId);
    const arrived = prev === null || now - prev.at > ARRIVAL_GAP_INTERVALS * prev.intervalSec * 1000;
    this.#table.record(deviceId, address, port, intervalSec, now);
    if (!arrived && this.#claimed.has(deviceId)) return;
    this.#claimed.add(deviceId);
    this.#owners.claim(deviceId, this.#nodeId, now).then(
      (won) => {
        if (!won) this.#log(`claim of ${deviceId} lost: another node saw it later`);
      },
      (err: unknown) => {
        this.#claimed.delete(deviceId);
        this.#log(`claim of ${deviceId} failed: ${(err as Error).message}`);
      },
    );
  }
}
