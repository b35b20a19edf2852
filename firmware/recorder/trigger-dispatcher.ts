/** @module The recorder's side of triggers: verify, ACK every valid one (duplicates too), act once per trigger id. */
import {
  encodeTriggerAck,
  type Trigger,
  type TriggerKind,
  TriggerReplayGuard,
  verifyTrigger,
} from "../../protocol/trigger-datagram.ts";
import { TriggerError } from "../../protocol/trigger-error.ts";

/**
 * What the recorder does per kind. `status` and `verdict` answer at once (the node waits for the ACK's answer
 * while a caller waits for its QUERY); the others start work and return; their failures go to the log.
 */
export interface TriggerHandlers {
  status(t: Trigger): "acceptable" | "busy";
  verdict(t: Trigger): "allow" | "deny";
  contact(t: Trigger): Promise<void> | void;
  end(t: Trigger): Promise<void> | void;
  data(t: Trigger): Promise<void> | void;
  /** Policy "list" (seed B embodiment 1): send the current list to the node for the trigger's request. */
  list(t: Trigger): Promise<void> | void;
}

/** One line per datagram; never key material, never the raw bytes. */
export interface TriggerLogEvent {
  event: "trigger" | "trigger-duplicate" | "trigger-rejected" | "trigger-failed";
  kind?: TriggerKind;
  id?: string;
  answer?: string;
  code?: string;
  message?: string;
}

export interface TriggerDispatcherOptions {
  deviceId: string;
  /** deriveKey(secret, "trigger"). */
  key: Uint8Array;
  handlers: TriggerHandlers;
  /** Sends the ACK back to the node from the keepalive socket. */
  sendAck: (bytes: Uint8Array) => void;
  log: (e: TriggerLogEvent) => void;
  now?: () => number;
}

/**
 * A duplicate (the node retries the identical datagram until an ACK arrives, or an attacker replays one within
 * the window) is ACKed again with the answer given the first time, so retries stop and a replay learns nothing
 * new, and no handler runs twice.
 */
export class TriggerDispatcher {
  readonly #o: TriggerDispatcherOptions;
  readonly #guard = new TriggerReplayGuard();
  /** Answers by trigger id, kept as long as the guard remembers the id (bounded the same way). */
  readonly #answers = new Map<string, string | undefined>();
  readonly #now: () => number;
  /** Counters for the status file and tests. */
  readonly stats = { accepted: 0, duplicates: 0, rejected: 0 };

  constructor(o: TriggerDispatcherOptions) {
    this.#o = o;
    this.#now = o.now ?? Date.now;
  }

  /** Handles one trigger datagram; never throws. Returns what happened, for tests. */
  handle(bytes: Uint8Array): "new" | "duplicate" | "rejected" {
    const now = this.#now();
    let t: Trigger;
    try {
      t = verifyTrigger(bytes, this.#o.key, { deviceId: this.#o.deviceId, now });
    } catch (err) {
      this.stats.rejected++;
      const code = err instanceof TriggerError ? err.code : "ERR_TRIGGER_MALFORMED";
      this.#o.log({ event: "trigger-rejected", code, message: (err as Error).message });
      return "rejected";
    }
    if (this.#guard.admit(t, now) === "duplicate") {
      this.stats.duplicates++;
      const answer = this.#answers.get(t.id);
      this.#ack(t, answer, now);
      this.#o.log({ event: "trigger-duplicate", kind: t.kind, id: t.id, ...(answer ? { answer } : {}) });
      return "duplicate";
    }
    this.stats.accepted++;
    let answer: string | undefined;
    try {
      answer = this.#act(t);
    } catch (err) {
      // A status/verdict handler that throws must still answer: "busy"/"deny" are the safe refusals.
      answer = t.kind === "status" ? "busy" : t.kind === "verdict" ? "deny" : undefined;
      this.#o.log({ event: "trigger-failed", kind: t.kind, id: t.id, message: (err as Error).message });
    }
    this.#remember(t.id, answer);
    this.#ack(t, answer, now);
    this.#o.log({ event: "trigger", kind: t.kind, id: t.id, ...(answer ? { answer } : {}) });
    return "new";
  }

  #act(t: Trigger): string | undefined {
    const h = this.#o.handlers;
    switch (t.kind) {
      case "status":
        return h.status(t);
      case "verdict":
        return h.verdict(t);
      case "contact":
      case "end":
      case "data":
      case "list": {
        const run = async () => h[t.kind](t);
        run().catch((err: unknown) =>
          this.#o.log({ event: "trigger-failed", kind: t.kind, id: t.id, message: (err as Error).message }),
        );
        return undefined;
      }
    }
  }

  #remember(id: string, answer: string | undefined): void {
    if (this.#answers.size >= 4096) {
      const oldest = this.#answers.keys().next().value;
      if (oldest !== undefined) this.#answers.delete(oldest);
    }
    this.#answers.set(id, answer);
  }

  #ack(t: Trigger, answer: string | undefined, now: number): void {
    const bytes = encodeTriggerAck(
      answer === undefined
        ? { id: t.id, deviceId: this.#o.deviceId, timestamp: now }
        : { id: t.id, deviceId: this.#o.deviceId, answer, timestamp: now },
      this.#o.key,
    );
    try {
      this.#o.sendAck(bytes);
    } catch (err) {
      this.#o.log({ event: "trigger-failed", kind: t.kind, id: t.id, message: (err as Error).message });
    }
  }
}
