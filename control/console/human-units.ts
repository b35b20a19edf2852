/** @module Bytes and times as people read them (console and CLI): 1.5 GiB, 3 min ago, 2026-01-02 03:04 UTC. */

const BYTE_UNITS = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];

/** Binary units, three significant digits: 0 B, 999 B, 1.00 KiB, 15.3 MiB. */
export function formatBytes(n: number): string {
  if (!Number.isFinite(n) || n < 0) throw new RangeError(`Cannot format ${n} as bytes: not a count`);
  let v = n;
  let i = 0;
  while (v >= 1024 && i < BYTE_UNITS.length - 1) {
    v /= 1024;
    i++;
  }
  if (i === 0) return `${v} B`;
  return `${v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2)} ${BYTE_UNITS[i]}`;
}

/** A span in its two largest units: 45 s, 3 min 5 s, 2 h 10 min, 3 d 4 h. */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms)) throw new RangeError(`Cannot format ${ms} as a duration: not finite`);
  const s = Math.round(Math.abs(ms) / 1000);
  const parts: Array<[number, string]> = [
    [Math.floor(s / 86400), "d"],
    [Math.floor((s % 86400) / 3600), "h"],
    [Math.floor((s % 3600) / 60), "min"],
    [s % 60, "s"],
  ];
  const first = parts.findIndex(([v]) => v > 0);
  if (first === -1) return "0 s";
  return parts
    .slice(first, first + 2)
    .filter(([v]) => v > 0)
    .map(([v, u]) => `${v} ${u}`)
    .join(" ");
}

/** Relative to now: "3 min ago", "in 2 h", "just now". */
export function formatRelative(at: number, now: number): string {
  const d = at - now;
  if (Math.abs(d) < 1000) return "just now";
  return d < 0 ? `${formatDuration(d)} ago` : `in ${formatDuration(d)}`;
}

/** Minutes precision in UTC, unambiguous across operators' time zones: 2026-01-02 03:04 UTC. */
export function formatTime(ms: number): string {
  if (!Number.isFinite(ms)) throw new RangeError(`Cannot format ${ms} as a time: not finite`);
  return `${new Date(ms).toISOString().slice(0, 16).replace("T", " ")} UTC`;
}
