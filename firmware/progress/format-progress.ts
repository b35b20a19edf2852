/** @module Pure formatting of transfer progress: byte counts, rates, ETAs and the one-line TTY bar. */

const UNITS = ["B", "KiB", "MiB", "GiB", "TiB"] as const;

/** Bytes in binary units with one decimal past KiB: 0 B, 1023 B, 1.0 KiB, 12.5 MiB. */
export function formatBytes(n: number): string {
  if (!Number.isFinite(n) || n < 0) return "? B";
  let v = n;
  let u = 0;
  while (v >= 1024 && u < UNITS.length - 1) {
    v /= 1024;
    u++;
  }
  return u === 0 ? `${Math.round(v)} B` : `${v.toFixed(1)} ${UNITS[u]}`;
}

/** A rate in bytes per second, same units as formatBytes plus "/s". */
export function formatRate(bytesPerSecond: number): string {
  if (!Number.isFinite(bytesPerSecond) || bytesPerSecond < 0) return "? B/s";
  return `${formatBytes(bytesPerSecond)}/s`;
}

/** Seconds as m:ss or h:mm:ss; unknown or absurd (over 99 hours) as --:--. */
export function formatEta(seconds: number | undefined): string {
  if (seconds === undefined || !Number.isFinite(seconds) || seconds < 0 || seconds >= 99 * 3600)
    return "--:--";
  const s = Math.ceil(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, "0");
  return h > 0 ? `${h}:${String(m).padStart(2, "0")}:${ss}` : `${m}:${ss}`;
}

/** Seconds left at the given rate, or undefined when it cannot be known (no total, no rate yet). */
export function estimateEta(
  done: number,
  total: number | undefined,
  bytesPerSecond: number,
): number | undefined {
  if (total === undefined || bytesPerSecond <= 0 || !Number.isFinite(bytesPerSecond)) return undefined;
  return Math.max(0, total - done) / bytesPerSecond;
}

/** A snapshot of one transfer, as the reporter hands it to the formatters. */
export interface ProgressSnapshot {
  label: string;
  done: number;
  /** Undefined when the size is not known in advance. */
  total: number | undefined;
  bytesPerSecond: number;
  /** Seconds since the transfer started; undefined hides it. */
  elapsedSeconds?: number;
  /** What the transfer is doing now ("sending", "waiting for bob to verify"); undefined hides it. */
  phase?: string;
}

/** Elapsed time as m:ss or h:mm:ss (never --:--: it is always known). */
export function formatElapsed(seconds: number): string {
  return formatEta(Math.min(Math.max(0, Math.floor(seconds)), 99 * 3600 - 1));
}

/** Text cut to at most `max` code points, an ellipsis marking the cut. */
function cut(text: string, max: number): string {
  const chars = [...text];
  if (chars.length <= max) return text;
  return max <= 0 ? "" : `${chars.slice(0, max - 1).join("")}\u2026`;
}

const length = (s: string) => [...s].length;

/** The bar grows with the room left, between these widths (brackets included). */
const BAR_MIN = 8;
const BAR_MAX = 24;
/** Shortest label and phase before fields are dropped instead (both end in an ellipsis when cut): a phase up to
 * 30 columns ("waiting for alice to verify") outranks the elapsed time and the ETA. */
const LABEL_MIN = 12;
const PHASE_MIN = 30;

type Field = "label" | "bar" | "pct" | "sizes" | "rate" | "eta" | "elapsed" | "phase";
const ORDER: readonly Field[] = ["label", "bar", "pct", "sizes", "rate", "eta", "elapsed", "phase"];
/** Dropped in this order while the line does not fit; the percentage stays. */
const DROP_FIRST: readonly Field[] = ["bar", "sizes", "label", "elapsed", "eta", "rate", "phase"];

/**
 * The TTY line, fitted to `width` columns (rsync --info=progress2 style): with every field at its shortest,
 * the least important are dropped until the line fits; the room left goes to the phase, then the bar, then
 * the label. At 80 columns the percentage, rate, ETA, elapsed time and phase all show:
 * `holiday.mpg   42% 3.1 MiB/s ETA 0:05 elapsed 0:03 · waiting for alice to verify`.
 */
export function formatProgressLine(p: ProgressSnapshot, width = 80): string {
  const known = p.total !== undefined && p.total > 0;
  const frac = known ? Math.min(1, Math.max(0, p.done / (p.total as number))) : 0;
  const text: Record<Field, string> = {
    label: p.label,
    bar: known ? "[]" : "",
    pct: known ? `${Math.floor(frac * 100)}%`.padStart(4) : "",
    sizes: known ? `${formatBytes(p.done)}/${formatBytes(p.total as number)}` : formatBytes(p.done),
    rate: formatRate(p.bytesPerSecond),
    eta: known ? `ETA ${formatEta(estimateEta(p.done, p.total, p.bytesPerSecond))}` : "",
    elapsed: p.elapsedSeconds === undefined ? "" : `elapsed ${formatElapsed(p.elapsedSeconds)}`,
    phase: p.phase ? `\u00b7 ${p.phase}` : "",
  };
  const shown = new Set(ORDER.filter((k) => text[k] !== ""));
  const size = { label: 0, bar: BAR_MIN, phase: 0 };
  const render = () =>
    ORDER.filter((k) => shown.has(k))
      .map((k) => {
        if (k === "bar") {
          const filled = Math.floor(frac * (size.bar - 2));
          return `[${"#".repeat(filled)}${".".repeat(size.bar - 2 - filled)}]`;
        }
        return k === "label" || k === "phase" ? cut(text[k], size[k]) : text[k];
      })
      .join(" ");
  for (const drop of [undefined, ...DROP_FIRST]) {
    if (drop !== undefined) shown.delete(drop);
    size.label = Math.min(LABEL_MIN, length(text.label));
    size.phase = Math.min(PHASE_MIN, length(text.phase));
    size.bar = BAR_MIN;
    let room = width - length(render());
    if (room < 0) continue;
    const grow = (k: "phase" | "label" | "bar", full: number) => {
      const add = Math.max(0, Math.min(room, full - size[k]));
      size[k] += add;
      room -= add;
    };
    if (shown.has("phase")) grow("phase", length(text.phase));
    if (shown.has("bar")) grow("bar", BAR_MAX);
    if (shown.has("label")) grow("label", length(text.label));
    return render();
  }
  return cut(render(), width);
}

/** One JSON line (no trailing newline) for non-TTY consumers; eta is null when unknown. */
export function formatProgressJson(p: ProgressSnapshot, event: "progress" | "done" = "progress"): string {
  const eta = estimateEta(p.done, p.total, p.bytesPerSecond);
  return JSON.stringify({
    event,
    label: p.label,
    bytes: p.done,
    total: p.total ?? null,
    bytesPerSecond: Math.round(p.bytesPerSecond),
    etaSeconds: eta === undefined ? null : Math.ceil(eta),
    ...(p.elapsedSeconds !== undefined ? { elapsedSeconds: Math.round(p.elapsedSeconds * 10) / 10 } : {}),
    ...(p.phase ? { phase: p.phase } : {}),
  });
}
