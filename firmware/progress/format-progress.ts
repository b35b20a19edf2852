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
}

const BAR_WIDTH = 20;

/** The TTY line: `label [#####.....]  42% 12.0 MiB / 28.6 MiB  3.1 MiB/s  ETA 0:05`, cut to width columns. */
export function formatProgressLine(p: ProgressSnapshot, width = 80): string {
  const eta = formatEta(estimateEta(p.done, p.total, p.bytesPerSecond));
  let line: string;
  if (p.total !== undefined && p.total > 0) {
    const frac = Math.min(1, Math.max(0, p.done / p.total));
    const filled = Math.floor(frac * BAR_WIDTH);
    const bar = `[${"#".repeat(filled)}${".".repeat(BAR_WIDTH - filled)}]`;
    const pct = `${Math.floor(frac * 100)}%`.padStart(4);
    line = `${p.label} ${bar} ${pct} ${formatBytes(p.done)} / ${formatBytes(p.total)}  ${formatRate(p.bytesPerSecond)}  ETA ${eta}`;
  } else {
    line = `${p.label} ${formatBytes(p.done)}  ${formatRate(p.bytesPerSecond)}`;
  }
  return line.length > width ? line.slice(0, Math.max(0, width)) : line;
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
  });
}
