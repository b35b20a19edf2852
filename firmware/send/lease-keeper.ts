/** @module The sender's session lease: an extension at 70% of the permitted time, and watching for a forced end. */
import { ControlApiError } from "../../protocol/control-api-error.ts";
import type { ControlClient } from "../../protocol/control-client.ts";

/** Fraction of the remaining lease after which an extension is asked for (issue 4 point 10). */
export const EXTEND_AT_FRACTION = 0.7;
/** How often the session state is polled for a forced end (the CLI has no trigger channel of its own). */
const WATCH_INTERVAL_MS = 1000;
/** Shortest wait before asking again after an extension request got no answer. */
const RETRY_FLOOR_MS = 100;

export interface LeaseEvents {
  extended(expiresAt: number, extensions: number): void;
  refused(message: string): void;
  /** The session ended without us: an operator's forced end, or the lease ran out on the node. */
  ended(reason: string): void;
}

/**
 * Runs while a transfer does: at 70% of the way from now to expiresAt it asks POST /v1/sessions/:id/extend and
 * reschedules from the new end; every second it reads the session and reports an end it did not cause.
 */
export class LeaseKeeper implements Disposable {
  #timer: ReturnType<typeof setTimeout> | undefined;
  #watch: ReturnType<typeof setInterval> | undefined;
  #stopped = false;
  #polling = false;
  readonly #client: ControlClient;
  readonly #sessionId: string;
  readonly #events: LeaseEvents;
  extensions = 0;
  expiresAt: number;

  /** session: the granted session's id and the end of its lease (epoch ms). */
  constructor(client: ControlClient, session: { id: string; expiresAt: number }, events: LeaseEvents) {
    this.#client = client;
    this.#sessionId = session.id;
    this.#events = events;
    this.expiresAt = session.expiresAt;
    this.#schedule();
    this.#watch = setInterval(() => void this.#poll(), WATCH_INTERVAL_MS);
  }

  #schedule(): void {
    if (this.#stopped) return;
    const delay = Math.max(0, (this.expiresAt - Date.now()) * EXTEND_AT_FRACTION);
    this.#timer = setTimeout(() => void this.#extend(), delay);
  }

  async #extend(): Promise<void> {
    if (this.#stopped) return;
    try {
      const r = await this.#client.extend(this.#sessionId);
      if (this.#stopped) return;
      this.expiresAt = r.expiresAt;
      this.extensions = r.extensions;
      this.#events.extended(r.expiresAt, r.extensions);
      this.#schedule();
    } catch (err) {
      if (this.#stopped) return;
      this.#events.refused((err as Error).message);
      // A refusal by policy (4xx: the extension cap) is final; a node that did not answer (restarting, slow)
      // is asked again at half of what is left, so one lost request does not cost the lease.
      const final = err instanceof ControlApiError && err.status < 500 && err.status !== 429;
      const left = this.expiresAt - Date.now();
      if (!final && left > RETRY_FLOOR_MS) {
        this.#timer = setTimeout(() => void this.#extend(), Math.max(RETRY_FLOOR_MS, left / 2));
      }
    }
  }

  async #poll(): Promise<void> {
    if (this.#stopped || this.#polling) return;
    this.#polling = true;
    try {
      const s = await this.#client.session(this.#sessionId);
      if (!this.#stopped && s.state === "ended") {
        this.stop();
        this.#events.ended(s.reason ?? "ended");
      }
    } catch {
      // The node may be restarting; the transfer's own resume logic deals with that.
    } finally {
      this.#polling = false;
    }
  }

  stop(): void {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
    if (this.#watch) clearInterval(this.#watch);
  }

  [Symbol.dispose](): void {
    this.stop();
  }
}
