/** @module A sliding-window transfer rate: bytes per second over the last few seconds, not since the start. */

/** Keeps (time, cumulative bytes) samples within a window and reports the rate across it. */
export class RateMeter {
  readonly #samples: Array<{ t: number; bytes: number }> = [];
  readonly #windowMs: number;

  /** windowMs: how far back the rate looks; a short window follows changes, a long one smooths them. */
  constructor(windowMs = 5000) {
    if (!(windowMs > 0)) throw new RangeError(`Cannot make RateMeter: window ${windowMs} ms is not positive`);
    this.#windowMs = windowMs;
  }

  /** Records that `bytes` have been transferred in total at time `t` (ms, monotonic). */
  record(t: number, bytes: number): void {
    this.#samples.push({ t, bytes });
    // Keep one sample older than the window so the rate spans the whole window, not less.
    while (this.#samples.length > 2 && this.#samples[1]!.t <= t - this.#windowMs) this.#samples.shift();
  }

  /** Bytes per second over the window; 0 until two samples at distinct times exist. */
  rate(): number {
    const first = this.#samples[0];
    const last = this.#samples[this.#samples.length - 1];
    if (!first || !last || last.t <= first.t) return 0;
    return ((last.bytes - first.bytes) * 1000) / (last.t - first.t);
  }
}
