/** @module The receiver's active transfers (for the status file) and the one load slot each session holds. */
import type { LoadMonitor, TransferSlot } from "../load/load-monitor.ts";

export interface ActiveTransfer {
  session: string;
  name: string;
  via: string;
  bytes: number;
  startedAt: number;
}

/** One channel's share of a transfer: counts its bytes, and done() once it stops (success or not). */
export interface TrackedTransfer {
  id: string;
  add(n: number): void;
  done(): void;
}

/**
 * One recording is one transfer for the load monitor, however many channels (direct + relay) carry it: the
 * first channel of a session takes the slot and the last one to finish releases it.
 */
export class TransferTracker {
  readonly active = new Map<string, ActiveTransfer>();
  readonly #slots = new Map<string, { users: number; slot: TransferSlot }>();
  #seq = 0;

  /** `changed` is told whenever the set of active transfers changes (the status file follows). */
  constructor(
    readonly monitor: LoadMonitor,
    readonly changed: () => void,
  ) {}

  begin(session: string, name: string, via: string): TrackedTransfer {
    const id = `${session}#${++this.#seq}`;
    let slot = this.#slots.get(session);
    if (slot) slot.users++;
    else {
      slot = { users: 1, slot: this.monitor.beginTransfer() };
      this.#slots.set(session, slot);
    }
    const held = slot;
    const t: ActiveTransfer = { session, name, via, bytes: 0, startedAt: Date.now() };
    this.active.set(id, t);
    this.changed();
    return {
      id,
      add: (n) => {
        t.bytes += n;
      },
      done: () => {
        if (--held.users === 0) {
          held.slot.release();
          if (this.#slots.get(session) === held) this.#slots.delete(session);
        }
        this.active.delete(id);
        this.changed();
      },
    };
  }
}
