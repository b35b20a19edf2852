/** @module The pvrlink_devices gauge's counts by state, read without a row per device in memory. */
import type { DeviceStore } from "../store/device-store.ts";
import type { KeepaliveLookup } from "../store/keepalive-table.ts";

export interface DeviceStateCounts {
  connected: number;
  disconnected: number;
  disabled: number;
}

/**
 * Enrolled devices by state for a scrape. The store counts them and names the disabled ones (few); the keepalive
 * lookup counts the connected ones in one pass. Listing every device and awaiting isConnected() for each held a
 * node of a million devices off its event loop for 1.0-1.8 s per scrape, stalling every request in flight
 * (docs/benchmarks.md, QUERY round 7).
 */
export async function deviceStateCounts(o: {
  devices: DeviceStore;
  keepalives: KeepaliveLookup;
}): Promise<DeviceStateCounts> {
  const [enrolled, disabledIds] = await Promise.all([o.devices.count(), o.devices.disabledIds()]);
  const connected = await o.keepalives.connectedCount({ disabled: disabledIds });
  const disabled = disabledIds.size;
  // A device removed through another node of a cluster stays in this node's keepalive table until its mapping
  // goes stale (its keepalives no longer authenticate): it may count as connected for those minutes, so the
  // difference is kept from going below zero.
  return { connected, disconnected: Math.max(0, enrolled - disabled - connected), disabled };
}
