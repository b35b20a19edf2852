/** @module The accounting log as CSV (RFC 4180), one line per session, safe to open in a spreadsheet. */
import type { AccountingEntry, AccountingReport } from "../../protocol/api-types.ts";

const PEER_COLUMNS = ["reported_utc", "reason", "bytes_direct", "bytes_relay", "direct_path", "note"];

/** One line per session: the node's figures, then the caller's and the callee's reports side by side. */
const HEADER = [
  "session",
  "caller",
  "callee",
  "mode",
  "started_utc",
  "ended_utc",
  "duration_s",
  "reason",
  "ended_by",
  "revoked_utc",
  "bytes_relay_node",
  ...PEER_COLUMNS.map((c) => `caller_${c}`),
  ...PEER_COLUMNS.map((c) => `callee_${c}`),
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

const iso = (ms: number | null) => (ms === null ? "" : new Date(ms).toISOString());

/** A peer's columns, empty when it has not reported (which is not the same as reporting 0 bytes). */
function peerFields(r: AccountingReport | null): Array<string | number> {
  if (r === null) return PEER_COLUMNS.map(() => "");
  return [iso(r.reportedAt), r.reason, r.bytesDirect, r.bytesRelay, r.directPath ?? "", r.note ?? ""];
}

export function accountingCsv(rows: readonly AccountingEntry[], nameOf: (id: string) => string): string {
  const lines = [HEADER.join(",")];
  for (const r of rows) {
    lines.push(
      [
        r.sessionId,
        nameOf(r.callerId),
        nameOf(r.calleeId),
        r.mode ?? "",
        iso(r.startedAt),
        iso(r.endedAt),
        Math.round(r.durationMs / 1000),
        r.reason,
        r.endedBy === r.callerId || r.endedBy === r.calleeId ? nameOf(r.endedBy) : r.endedBy,
        iso(r.revokedAt),
        r.bytesRelayNode,
        ...peerFields(r.caller),
        ...peerFields(r.callee),
      ]
        .map(csvField)
        .join(","),
    );
  }
  return `${lines.join("\r\n")}\r\n`;
}
