/** @module Store-and-forward pickup: when the load allows, download each stored transfer, verify, file, then ack it. */
import type { InboxEntry } from "../../protocol/api-types.ts";
import type { ControlClient } from "../../protocol/control-client.ts";
import { failureCode } from "./receive-failure.ts";
import type { RecorderLoad } from "./recorder-load.ts";
import type { RecordingReceiver } from "./recording-receiver.ts";

/** Failures that another try cannot fix: the stored bytes themselves are wrong, or the key is gone. */
const PERMANENT = new Set([
  "decrypt_failed",
  "integrity_failed",
  "truncated",
  "protocol_error",
  "no_session_key",
]);

/** A stored transfer that could not be filed; it stays on the node (not acked) and is not retried. */
export interface FailedPickup {
  id: string;
  session: string;
  code: string;
  message: string;
  at: number;
}

export interface InboxPickupOptions {
  client: ControlClient;
  load: RecorderLoad;
  receiver: RecordingReceiver;
  fetchSessions(): Promise<void>;
  log(event: string, fields: Record<string, unknown>): void;
  changed(): void;
  /** Periodic check, default 60 s. */
  everyMs?: number;
}

/**
 * Runs are coalesced: a `data` trigger during a run asks for one more run after it. Before each item the load is
 * checked; when busy the run waits (LoadMonitor.waitUntilAcceptable plus the operator switch) and continues.
 * A corrupt or undecryptable item is never filed (the receiver writes to a temp file that is only renamed after
 * verification) and never acked: it is reported in the log and in `failed`, which the status file and
 * `pvrlink inbox` show, and skipped by later runs so it does not hog the pickup.
 */
export class InboxPickup {
  readonly #o: InboxPickupOptions;
  readonly failed = new Map<string, FailedPickup>();
  pending: InboxEntry[] = [];
  waitingForLoad = false;
  lastRunAt: number | undefined;
  #running: Promise<void> | undefined;
  #again = false;
  #timer: ReturnType<typeof setInterval> | undefined;
  readonly #abort = new AbortController();

  constructor(o: InboxPickupOptions) {
    this.#o = o;
  }

  start(): void {
    this.schedule("start-up");
    this.#timer = setInterval(() => this.schedule("periodic"), this.#o.everyMs ?? 60_000);
    this.#timer.unref?.();
  }

  schedule(reason: string): void {
    if (this.#abort.signal.aborted) return;
    if (this.#running) {
      this.#again = true;
      return;
    }
    this.#running = this.#run(reason)
      .catch((err: unknown) => this.#o.log("pickup-failed", { reason, message: (err as Error).message }))
      .finally(() => {
        this.#running = undefined;
        if (this.#again) {
          this.#again = false;
          this.schedule("again");
        }
      });
  }

  async #run(reason: string): Promise<void> {
    this.lastRunAt = Date.now();
    const entries = (await this.#o.client.inbox()).filter((e) => typeof e.id === "string");
    this.pending = entries;
    this.#o.changed();
    const todo = entries.filter((e) => !this.failed.has(e.id as string));
    if (todo.length === 0) return;
    this.#o.log("pickup", { reason, items: todo.length });
    await this.#o.fetchSessions();
    for (const e of todo) {
      const id = e.id as string;
      const session = String(e.session);
      if (this.#o.load.status().state !== "acceptable") {
        this.waitingForLoad = true;
        this.#o.changed();
        this.#o.log("pickup-deferred", { id, reason: "busy" });
        await this.#o.load.waitUntilAcceptable(this.#abort.signal);
        this.waitingForLoad = false;
        this.#o.changed();
        this.#o.log("pickup-resumed", { id });
      }
      try {
        const rec = await this.#o.receiver.receiveRelay(id, session);
        if (!rec)
          throw Object.assign(new Error("Stored transfer is not a whole recording"), {
            code: "ERR_RELAY_PROTOCOL",
          });
        await this.#o.client.ackTransfer(id);
        this.#o.receiver.forget(session);
        // The sender of a stored transfer is gone: the log is where "already held" (issue 19 item 8) shows.
        this.#o.log("pickup-filed", {
          id,
          recording: rec.id,
          bytes: rec.size,
          ...(rec.duplicate ? { alreadyHeld: true } : {}),
        });
      } catch (err) {
        const own = (err as { code?: unknown }).code;
        const code = typeof own === "string" && !own.startsWith("ERR_") ? own : failureCode(err);
        if (PERMANENT.has(code)) {
          this.failed.set(id, { id, session, code, message: (err as Error).message, at: Date.now() });
          this.#o.log("pickup-rejected", { id, code, message: (err as Error).message });
        } else {
          // Node or network trouble: the item stays and the next run tries again.
          this.#o.log("pickup-retry-later", { id, code, message: (err as Error).message });
        }
      }
      this.pending = this.pending.filter((p) => p.id !== id);
      this.#o.changed();
    }
  }

  /** Waits for a running pickup to end (tests, shutdown). */
  async idle(): Promise<void> {
    await this.#running;
  }

  close(): void {
    this.#abort.abort(new Error("recorder stopping"));
    if (this.#timer) clearInterval(this.#timer);
  }
}
