/** @module Keeps this recorder registered with the node: PUT /v1/registration, retried with backoff until it lands. */
import type { RegistrationResponse } from "../../protocol/api-types.ts";
import { backoffDelay } from "./backoff-schedule.ts";

export interface RegistrarOptions {
  register(address: string, port: number): Promise<RegistrationResponse>;
  /** The address to announce now, or undefined while none is known (no keepalive answer yet). */
  target(): { address: string; port: number } | undefined;
  log(event: string, fields: Record<string, unknown>): void;
  /** Called after each successful registration. */
  onRegistered?(r: { address: string; port: number; at: number }): void;
  backoff?: { baseMs?: number; maxMs?: number; random?: () => number };
}

/**
 * request(reason) asks for a registration; requests that come while one runs are folded into one more run
 * afterwards, so the latest address always wins. A failed attempt (node down, network gone) is retried after
 * backoffDelay(attempt); a new request (the node answered a keepalive again) cuts the wait short.
 */
export class Registrar {
  readonly #o: RegistrarOptions;
  #running = false;
  #again: string | undefined;
  #attempt = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #closed = false;
  registered: { address: string; port: number; at: number } | undefined;
  lastError: string | undefined;

  constructor(o: RegistrarOptions) {
    this.#o = o;
  }

  request(reason: string): void {
    if (this.#closed) return;
    if (this.#running) {
      this.#again = reason;
      return;
    }
    if (this.#timer) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
    }
    void this.#run(reason);
  }

  async #run(reason: string): Promise<void> {
    const target = this.#o.target();
    if (!target) return; // the first keepalive answer requests again
    this.#running = true;
    try {
      const r = await this.#o.register(target.address, target.port);
      this.#attempt = 0;
      this.lastError = undefined;
      this.registered = { address: r.address, port: r.port, at: Date.now() };
      this.#o.log("registered", { address: `${r.address}:${r.port}`, reason });
      this.#o.onRegistered?.(this.registered);
    } catch (err) {
      const delay = backoffDelay(this.#attempt++, this.#o.backoff);
      this.lastError = (err as Error).message;
      this.#o.log("register-failed", { reason, message: this.lastError, retryMs: delay });
      if (!this.#closed && this.#again === undefined) {
        this.#timer = setTimeout(() => {
          this.#timer = undefined;
          this.request(`retry ${this.#attempt}`);
        }, delay);
      }
    } finally {
      this.#running = false;
    }
    const again = this.#again;
    this.#again = undefined;
    if (again !== undefined && !this.#closed) this.request(again);
  }

  close(): void {
    this.#closed = true;
    if (this.#timer) clearTimeout(this.#timer);
  }
}
