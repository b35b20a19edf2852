/** @module The accounting log as CSV (RFC 4180), safe to open in a spreadsheet. */
import type { AccountingEntry } from "../../protocol/api-types.ts";

const HEADER = [
  "session",
  "reporter",
  "caller",
  "callee",
  "started_utc",
  "ended_utc",
  "duration_s",
  "bytes_direct",
  "bytes_relay",
  "direct_path",
  "reason",
  "note",
];

/**
 * Quotes a field when RFC 4180 needs it, and defuses spreadsheet formulas: a text field starting with
 * = + - @ or a tab/CR gets a leading apostrophe (OWASP CSV injection), since reasons come from devices.
 */
export function csvField(v: string | number): string {
  let s = String(v);
  if (typeof v === "string" && /^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function accountingCsv(rows: readonly AccountingEntry[], nameOf: (id: string) => string): string {
  const lines = [HEADER.join(",")];
  for (const r of rows) {
    lines.push(
      [
        r.sessionId,
        r.reporter,
        nameOf(r.callerId),
        nameOf(r.calleeId),
        new Date(r.startedAt).toISOString(),
        new Date(r.endedAt).toISOString(),
        Math.round(r.durationMs / 1000),
        r.bytesDirect,
        r.bytesRelay,
        r.directPath ?? "",
        r.reason,
        r.note ?? "",
      ]
        .map(csvField)
        .join(","),
    );
  }
  return `${lines.join("\r\n")}\r\n`;
}
