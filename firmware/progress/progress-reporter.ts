/** @module Shows one transfer's progress: a stderr line redrawn in place on a TTY, JSON lines or nothing otherwise. */
import { formatProgressJson, formatProgressLine, type ProgressSnapshot } from "./format-progress.ts";
import { RateMeter } from "./rate-meter.ts";

/** tty: one line redrawn in place; json: one JSON object per line; quiet: nothing. */
export type ProgressMode = "tty" | "json" | "quiet";

export interface ProgressReporterOptions {
  label: string;
  total?: number | undefined;
  mode: ProgressMode;
  /** Where output goes; defaults to process.stderr. */
  write?: (text: string) => void;
  /** Monotonic milliseconds; defaults to performance.now. */
  now?: () => number;
  /** Least time between two redraws (tty) or two lines (json). */
  intervalMs?: number;
  /** The terminal's width now, read at every draw so a resized window is followed; default stderr's, else 80. */
  columns?: () => number;
}

/** Picks the mode a CLI user expects: the bar on a terminal, JSON when asked, otherwise quiet. */
export function chooseProgressMode(opts: { json?: boolean; quiet?: boolean; isTTY?: boolean }): ProgressMode {
  if (opts.quiet) return "quiet";
  if (opts.json) return "json";
  return opts.isTTY ? "tty" : "quiet";
}

/**
 * Throttled progress output for one transfer: update() as bytes move, phase() when what it waits for changes,
 * log() for a message above the bar, and end() once, which leaves one final line.
 */
export class ProgressReporter {
  readonly #meter = new RateMeter();
  readonly #opts: ProgressReporterOptions;
  readonly #write: (text: string) => void;
  readonly #now: () => number;
  readonly #intervalMs: number;
  readonly #started: number;
  #lastDraw = Number.NEGATIVE_INFINITY;
  #done = 0;
  #phase: string | undefined;
  #drawn = false;
  #finished = false;

  constructor(opts: ProgressReporterOptions) {
    this.#opts = opts;
    this.#write = opts.write ?? ((t) => process.stderr.write(t));
    this.#now = opts.now ?? (() => performance.now());
    this.#intervalMs = opts.intervalMs ?? (opts.mode === "json" ? 1000 : 100);
    this.#started = this.#now();
    this.#meter.record(this.#started, 0);
  }

  /** Sets the cumulative byte count; draws at most once per interval. */
  update(done: number): void {
    if (this.#finished) return;
    this.#done = done;
    const t = this.#now();
    this.#meter.record(t, done);
    if (t - this.#lastDraw < this.#intervalMs) return;
    this.#lastDraw = t;
    this.#draw("progress", this.#meter.rate());
  }

  /** What the transfer does now ("sending", "waiting for bob to verify"); redrawn at once. */
  phase(text: string): void {
    if (this.#finished || text === this.#phase) return;
    this.#phase = text;
    this.#lastDraw = this.#now();
    this.#draw("progress", this.#meter.rate());
  }

  /** A message on its own line above the bar (tty): the bar is cleared, the message written, the bar redrawn. */
  log(message: string): void {
    if (this.#opts.mode !== "tty") return;
    this.#write(`${this.#drawn ? "\r\x1b[K" : ""}${message}\n`);
    if (this.#drawn && !this.#finished) this.#draw("progress", this.#meter.rate());
  }

  /** Draws the final state (average rate over the whole transfer, the last phase) and ends the tty line. */
  finish(done = this.#done, phase?: string): void {
    if (this.#finished) return;
    this.#finished = true;
    this.#done = done;
    if (phase !== undefined) this.#phase = phase;
    const elapsed = this.#now() - this.#started;
    this.#draw("done", elapsed > 0 ? (done * 1000) / elapsed : 0);
    if (this.#opts.mode === "tty") this.#write("\n");
  }

  #draw(event: "progress" | "done", bytesPerSecond: number): void {
    const snap: ProgressSnapshot = {
      label: this.#opts.label,
      done: this.#done,
      total: this.#opts.total,
      bytesPerSecond,
      elapsedSeconds: (this.#now() - this.#started) / 1000,
      ...(this.#phase !== undefined ? { phase: this.#phase } : {}),
    };
    if (this.#opts.mode === "tty") {
      // One column short of the width: writing the last column makes many terminals wrap at the next \r.
      const columns = this.#opts.columns?.() ?? process.stderr.columns ?? 80;
      // \r returns to column 0 and ESC[K (ECMA-48 8.3.41 EL) clears what a longer previous line left.
      this.#write(`\r${formatProgressLine(snap, Math.max(1, columns - 1))}\x1b[K`);
      this.#drawn = true;
    } else if (this.#opts.mode === "json") {
      this.#write(`${formatProgressJson(snap, event)}\n`);
    }
  }
}
