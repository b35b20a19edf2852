/** @module Shows one transfer's progress: an updating stderr line on a TTY, JSON lines or nothing otherwise. */
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
  /** Terminal width for the tty line. */
  columns?: number;
}

/** Picks the mode a CLI user expects: the bar on a terminal, JSON when asked, otherwise quiet. */
export function chooseProgressMode(opts: { json?: boolean; quiet?: boolean; isTTY?: boolean }): ProgressMode {
  if (opts.quiet) return "quiet";
  if (opts.json) return "json";
  return opts.isTTY ? "tty" : "quiet";
}

/** Throttled progress output for one transfer; call update() as bytes move and finish() once at the end. */
export class ProgressReporter {
  private readonly meter = new RateMeter();
  private readonly write: (text: string) => void;
  private readonly now: () => number;
  private readonly intervalMs: number;
  private readonly started: number;
  private lastDraw = Number.NEGATIVE_INFINITY;
  private done = 0;
  private finished = false;

  constructor(private readonly opts: ProgressReporterOptions) {
    this.write = opts.write ?? ((t) => process.stderr.write(t));
    this.now = opts.now ?? (() => performance.now());
    this.intervalMs = opts.intervalMs ?? (opts.mode === "json" ? 1000 : 100);
    this.started = this.now();
    this.meter.record(this.started, 0);
  }

  /** Sets the cumulative byte count; draws at most once per interval. */
  update(done: number): void {
    if (this.finished) return;
    this.done = done;
    const t = this.now();
    this.meter.record(t, done);
    if (t - this.lastDraw < this.intervalMs) return;
    this.lastDraw = t;
    this.draw("progress", this.meter.rate());
  }

  /** Draws the final state (average rate over the whole transfer) and ends the tty line. */
  finish(done = this.done): void {
    if (this.finished) return;
    this.finished = true;
    this.done = done;
    const elapsed = this.now() - this.started;
    this.draw("done", elapsed > 0 ? (done * 1000) / elapsed : 0);
    if (this.opts.mode === "tty") this.write("\n");
  }

  private draw(event: "progress" | "done", bytesPerSecond: number): void {
    const snap: ProgressSnapshot = {
      label: this.opts.label,
      done: this.done,
      total: this.opts.total,
      bytesPerSecond,
    };
    if (this.opts.mode === "tty") {
      // \r returns to column 0 and ESC[K (ECMA-48 8.3.41 EL) clears what a longer previous line left.
      this.write(`\r${formatProgressLine(snap, (this.opts.columns ?? 80) - 1)}\x1b[K`);
    } else if (this.opts.mode === "json") {
      this.write(`${formatProgressJson(snap, event)}\n`);
    }
  }
}
