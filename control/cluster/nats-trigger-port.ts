/** @module The HTTP node's TriggerPort: a NATS request to the UDP node that owns the device, answered with the recorder's ACK. */
import type { TriggerKind, TriggerPort } from "../query/trigger-port.ts";
import type { DeviceOwnerStore } from "./device-owner-store.ts";
import type { NatsBus } from "./nats-bus.ts";
import { decodeTriggerReply, encodeTriggerRequest, triggerSubject } from "./trigger-request.ts";

/** The default deadline of UdpEndpoint.trigger, used when the caller names none. */
const DEFAULT_DEADLINE_MS = 3000;
/** Time beyond the trigger deadline for the owner's reply to cross the bus. */
const BUS_MARGIN_MS = 1000;

/**
 * Resolves null, as the local endpoint does, when the callee cannot be reached: no owner recorded, "no responders"
 * on its subject (that UDP node is gone: answered by the NATS server at once, not after a timeout), or no ACK
 * before the deadline. A reply that is not one is logged and also counts as unreachable.
 */
export class NatsTriggerPort implements TriggerPort {
  readonly #bus: NatsBus;
  readonly #owners: DeviceOwnerStore;
  readonly #log: (msg: string) => void;

  constructor(o: { bus: NatsBus; owners: DeviceOwnerStore; log: (msg: string) => void }) {
    this.#bus = o.bus;
    this.#owners = o.owners;
    this.#log = o.log;
  }

  async trigger(
    deviceId: string,
    kind: TriggerKind,
    ref: Record<string, unknown>,
    opts?: { deadlineMs?: number },
  ): Promise<{ answer?: string } | null> {
    const owner = await this.#owners.ownerOf(deviceId);
    if (!owner) return null;
    const deadlineMs = opts?.deadlineMs ?? DEFAULT_DEADLINE_MS;
    const reply = await this.#bus.request(
      triggerSubject(owner.nodeId),
      encodeTriggerRequest({ deviceId, kind, ref, deadlineMs }),
      deadlineMs + BUS_MARGIN_MS,
    );
    if (reply === "no-responders" || reply === "timeout") return null;
    try {
      return decodeTriggerReply(reply).ack;
    } catch (err) {
      this.#log(`trigger reply from ${owner.nodeId} refused: ${(err as Error).message}`);
      return null;
    }
  }
}
