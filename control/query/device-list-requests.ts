/** @module Seed B embodiment 1: on a query the node triggers the callee, which sends its current permission list; the node judges that one query by it and keeps nothing. */
import { randomToken } from "../../crypto/random-token.ts";
import type { TriggerPort } from "./trigger-port.ts";

/** A list as the callee sends it: lower-cased names and `@group` references, and its local groups' members. */
export interface DeviceSentList {
  entries: readonly string[];
  groups: Readonly<Record<string, readonly string[]>>;
}

/** Request ids: 16 CSPRNG bytes, so only the triggered device (which read it in its authenticated trigger) can answer. */
const REQUEST_BYTES = 16;

/** Seed B FIG. 7 S7xx as the node does it under policy "list": the caller's name, or a listed group holding it. */
export function listPermits(list: DeviceSentList, callerName: string): boolean {
  const name = callerName.toLowerCase();
  return list.entries.some((e) =>
    e.startsWith("@") ? (list.groups[e.slice(1)] ?? []).includes(name) : e === name,
  );
}

interface Waiter {
  deviceId: string;
  settle: (list: DeviceSentList | null) => void;
}

/**
 * The requests in flight: one per query under policy "list". A list is accepted only from the device that was
 * asked, for the request id its trigger carried, and only while the query still waits; it lives in memory
 * for the one judgement and is never written anywhere.
 */
export class DeviceListRequests {
  readonly #pending = new Map<string, Waiter>();
  readonly #triggers: TriggerPort;

  constructor(triggers: TriggerPort) {
    this.#triggers = triggers;
  }

  /** Triggers the device and waits for its list until deadlineMs; null when it is offline or silent. */
  async ask(deviceId: string, deadlineMs: number): Promise<DeviceSentList | null> {
    const request = randomToken(REQUEST_BYTES);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const answered = new Promise<DeviceSentList | null>((settle) => {
      this.#pending.set(request, { deviceId, settle });
      timer = setTimeout(() => settle(null), deadlineMs);
    });
    try {
      const ack = await this.#triggers.trigger(deviceId, "list", { request }, { deadlineMs });
      if (ack === null) return null;
      return await answered;
    } finally {
      clearTimeout(timer);
      this.#pending.delete(request);
    }
  }

  /** The device's POST: true when it answered a request of its own that is still waiting. */
  deliver(deviceId: string, request: string, list: DeviceSentList): boolean {
    const w = this.#pending.get(request);
    if (!w || w.deviceId !== deviceId) return false;
    this.#pending.delete(request);
    w.settle(list);
    return true;
  }

  /** Requests waiting now (for tests and the status page). */
  get waiting(): number {
    return this.#pending.size;
  }
}
