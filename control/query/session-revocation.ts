/** @module Revocation: when a caller loses its permission, or a device goes, its sessions end at once and nothing of them moves any more. */
import type { AllowListStore } from "../store/allow-list-store.ts";
import type { DeviceStore } from "../store/device-store.ts";
import { REVOKED, type SessionStore, type SessionSummary } from "../store/session-store.ts";
import type { TriggerPort } from "./trigger-port.ts";

export interface SessionRevocationDeps {
  sessions: SessionStore;
  allow: AllowListStore;
  devices: DeviceStore;
  triggers: TriggerPort;
  triggerDeadlineMs: number;
  /** Store sessions ended within this long may still have data in the spool (the relay TTL). */
  storeLifetimeMs: number;
  log: (msg: string) => void;
}

/**
 * Issue 21 item 3. The node marks each such session revoked (so the relay refuses and drops its transfers and
 * extensions are refused), deletes its undelivered grant, and sends both peers an `end` trigger with reason
 * "revoked", which makes a recorder forget the session's ticket and key (so a later direct REQUEST is denied).
 * The trigger to the device that made the change is awaited, so when its request returns its recorder already
 * refuses the session; the other peer's is sent behind.
 */
export class SessionRevocation {
  readonly #d: SessionRevocationDeps;

  constructor(d: SessionRevocationDeps) {
    this.#d = d;
  }

  /** After ownerId's list, policy or groups changed: ends its sessions with callers it no longer permits. */
  async afterPermissionChange(ownerId: string, now = Date.now()): Promise<string[]> {
    const d = this.#d;
    if ((await d.allow.policy(ownerId)) !== "node") return []; // the device holds the list; the node keeps none to judge by
    const gone: SessionSummary[] = [];
    for (const s of await d.sessions.live(ownerId, "callee", now - d.storeLifetimeMs)) {
      const caller = await d.devices.byId(s.callerId);
      if (!(await d.allow.permits(ownerId, caller?.name ?? ""))) gone.push(s);
    }
    await this.#revoke(gone, ownerId, now);
    return gone.map((s) => s.id);
  }

  /**
   * Ends every session of a device that is being deleted; call before the device row goes, so its sessions can
   * still be found and its peers told.
   */
  async deviceGone(deviceId: string, now = Date.now()): Promise<string[]> {
    const gone = await this.#d.sessions.live(deviceId, "either", now - this.#d.storeLifetimeMs);
    await this.#revoke(gone, null, now);
    return gone.map((s) => s.id);
  }

  async #revoke(gone: SessionSummary[], awaitFor: string | null, now: number): Promise<void> {
    const d = this.#d;
    const waits: Promise<unknown>[] = [];
    for (const s of gone) {
      await d.sessions.revoke(s.id, now);
      d.log(`session ${s.id} revoked`);
      for (const peer of [s.callerId, s.calleeId]) {
        const sent = d.triggers
          .trigger(peer, "end", { session: s.id, reason: REVOKED }, { deadlineMs: d.triggerDeadlineMs })
          .catch((err: unknown) => d.log(`end trigger for ${s.id} failed: ${(err as Error).message}`));
        if (peer === awaitFor) waits.push(sent);
      }
    }
    await Promise.all(waits);
  }
}
