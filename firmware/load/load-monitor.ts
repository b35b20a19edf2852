/** @module Decides whether this recorder can take more work now: CPU share over a window, PSI, active transfers. */

import type { LoadSource } from "./load-source.ts";
import type { CpuTimes } from "./parse-proc-stat.ts";

/** Upper limits; a reading at or above a limit makes the recorder busy. */
export interface LoadLimits {
  /** Busy share of all CPUs over the window, 0..1. */
  cpu: number;
  /** PSI cpu "some avg10", percent 0..100; ignored where the kernel has no PSI. */
  pressure: number;
  /** Active transfers (sends plus receives) at which no new one is accepted. */
  transfers: number;
}

export const DEFAULT_LOAD_LIMITS: LoadLimits = { cpu: 0.85, pressure: 40, transfers: 2 };

/** Which metric made the recorder busy, its value and the limit it reached. */
export interface BusyReason {
  metric: "cpu" | "pressure" | "transfers";
  value: number;
  limit: number;
}

export type LoadState = "acceptable" | "busy";

export interface LoadStatus {
  state: LoadState;
  /** Present when busy: the first limit reached, in the order cpu, pressure, transfers. */
  reason?: BusyReason;
  /** Busy share over the window, undefined until two readings exist. */
  cpu: number | undefined;
  pressure: number | undefined;
  transfers: number;
  limits: LoadLimits;
}

export interface LoadMonitorOptions {
  source: LoadSource;
  limits?: Partial<LoadLimits>;
  /** Readings kept; the CPU share spans the oldest to the newest. */
  window?: number;
  /** Time between readings when start()ed. */
  intervalMs?: number;
  /** Told when a reading fails; the monitor keeps its previous readings and carries on. */
  onError?: (err: unknown) => void;
}

/** A released-once handle for one active transfer (`using t = monitor.beginTransfer()`). */
export interface TransferSlot extends Disposable {
  release(): void;
}

function checkLimits(l: LoadLimits): LoadLimits {
  if (!(l.cpu > 0 && l.cpu <= 1))
    throw new RangeError(`Cannot use load limit: cpu ${l.cpu} is not in (0, 1]`);
  if (!(l.pressure > 0 && l.pressure <= 100)) {
    throw new RangeError(`Cannot use load limit: pressure ${l.pressure} is not in (0, 100]`);
  }
  if (!Number.isInteger(l.transfers) || l.transfers < 1) {
    throw new RangeError(`Cannot use load limit: transfers ${l.transfers} is not a positive integer`);
  }
  return l;
}

/** Samples a LoadSource on a timer and answers STATUS; waitUntilAcceptable() gates store-and-forward pickup. */
export class LoadMonitor implements Disposable {
  readonly limits: LoadLimits;
  readonly #source: LoadSource;
  readonly #windowSize: number;
  readonly #intervalMs: number;
  readonly #onError: (err: unknown) => void;
  readonly #cpuWindow: CpuTimes[] = [];
  #pressure: number | undefined;
  #active = 0;
  #timer: ReturnType<typeof setInterval> | undefined;
  readonly #waiters = new Set<() => void>();

  constructor(opts: LoadMonitorOptions) {
    this.#source = opts.source;
    this.limits = checkLimits({ ...DEFAULT_LOAD_LIMITS, ...opts.limits });
    this.#windowSize = opts.window ?? 5;
    this.#intervalMs = opts.intervalMs ?? 1000;
    this.#onError = opts.onError ?? (() => {});
    if (!Number.isInteger(this.#windowSize) || this.#windowSize < 2) {
      throw new RangeError(`Cannot make LoadMonitor: window ${this.#windowSize} is below 2 readings`);
    }
  }

  /** Takes one reading now; resolves once the window holds it. Errors go to onError, not to the caller. */
  async sample(): Promise<void> {
    try {
      const r = await this.#source.read();
      this.#cpuWindow.push(r.cpu);
      if (this.#cpuWindow.length > this.#windowSize) this.#cpuWindow.shift();
      this.#pressure = r.pressureAvg10;
    } catch (err) {
      this.#onError(err);
    }
    this.#wake();
  }

  /** Samples every intervalMs until stop(); the timer does not keep the process alive. */
  start(): void {
    if (this.#timer) return;
    void this.sample();
    this.#timer = setInterval(() => void this.sample(), this.#intervalMs);
    this.#timer.unref?.();
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  [Symbol.dispose](): void {
    this.stop();
  }

  /** Busy CPU share between the oldest and newest reading in the window; a counter reset reads as unknown. */
  cpuShare(): number | undefined {
    const first = this.#cpuWindow[0];
    const last = this.#cpuWindow[this.#cpuWindow.length - 1];
    if (!first || !last || this.#cpuWindow.length < 2) return undefined;
    const total = last.total - first.total;
    const busy = last.busy - first.busy;
    if (total <= 0 || busy < 0) return undefined;
    return Math.min(1, busy / total);
  }

  get activeTransfers(): number {
    return this.#active;
  }

  /** Counts one transfer as active until the slot is released (idempotent). */
  beginTransfer(): TransferSlot {
    this.#active++;
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      this.#active--;
      this.#wake();
    };
    return { release, [Symbol.dispose]: release };
  }

  status(): LoadStatus {
    const cpu = this.cpuShare();
    const base = { cpu, pressure: this.#pressure, transfers: this.#active, limits: this.limits };
    const l = this.limits;
    let reason: BusyReason | undefined;
    if (cpu !== undefined && cpu >= l.cpu) reason = { metric: "cpu", value: cpu, limit: l.cpu };
    else if (this.#pressure !== undefined && this.#pressure >= l.pressure) {
      reason = { metric: "pressure", value: this.#pressure, limit: l.pressure };
    } else if (this.#active >= l.transfers)
      reason = { metric: "transfers", value: this.#active, limit: l.transfers };
    return reason ? { state: "busy", reason, ...base } : { state: "acceptable", ...base };
  }

  /**
   * Resolves once status() is acceptable, re-checking after every reading and every released transfer.
   * Rejects with signal.reason when aborted. Needs start() (or external sample() calls) to make progress on load.
   */
  waitUntilAcceptable(signal?: AbortSignal): Promise<LoadStatus> {
    return new Promise((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason);
      const check = () => {
        const s = this.status();
        if (s.state !== "acceptable") return;
        cleanup();
        resolve(s);
      };
      const onAbort = () => {
        cleanup();
        reject(signal?.reason);
      };
      const cleanup = () => {
        this.#waiters.delete(check);
        signal?.removeEventListener("abort", onAbort);
      };
      this.#waiters.add(check);
      signal?.addEventListener("abort", onAbort, { once: true });
      check();
    });
  }

  #wake(): void {
    for (const w of [...this.#waiters]) w();
  }
}

/** One human line for `pvrlink recorder status`: "busy: cpu 92% >= limit 85%" or "acceptable: cpu 12%, ...". */
export function describeLoadStatus(s: LoadStatus): string {
  const pct = (v: number) => `${Math.round(v * 100)}%`;
  const metrics = [
    `cpu ${s.cpu === undefined ? "n/a" : pct(s.cpu)}`,
    `pressure ${s.pressure === undefined ? "n/a" : `${s.pressure}%`}`,
    `transfers ${s.transfers}`,
  ].join(", ");
  if (s.state === "acceptable") return `acceptable: ${metrics}`;
  const r = s.reason!;
  const show = (v: number) => (r.metric === "cpu" ? pct(v) : r.metric === "pressure" ? `${v}%` : String(v));
  return `busy: ${r.metric} ${show(r.value)} >= limit ${show(r.limit)} (${metrics})`;
}
