/** @module The accounting log (seed B FIG. 16): one row per ended session, the node's own figures beside each peer's report, merged by UPSERT. */
import type { AccountingEntry, AccountingReport, DirectPath, SessionMode } from "../../protocol/api-types.ts";
import type { SqlDriver, SqlQueries, SqlValue } from "./sql-driver.ts";

/** What the node itself knows of an ended session; written once, whoever reports first. */
export interface SessionEnd {
  sessionId: string;
  callerId: string;
  calleeId: string;
  mode: SessionMode;
  startedAt: number;
  endedAt: number;
  /** The session's end reason (the first end's). */
  reason: string;
  /** Who ended it: a peer's device id, "admin", or "node" (lease expired, revoked, superseded). */
  endedBy: string;
  /** Bytes the node relayed for the session, its own count. */
  bytesRelayNode: number;
  /** Set when the node ended the session (or marked an ended one) because a permission went (issue 21 item 3). */
  revokedAt?: number;
}

/** Which peer a report comes from; the column prefix of its figures. */
export type Party = "caller" | "callee";

/** One peer's end report, as it arrived. */
export interface PeerReport {
  reportedAt: number;
  reason: string;
  bytesDirect: number;
  bytesRelay: number;
  directPath: DirectPath | null;
}

/**
 * What recordReport() did: "recorded" the first report of this peer; "repeated" an identical report seen before
 * (a retry, also one through another HTTP node: nothing changes); "conflicting" a second report with other figures
 * (nothing changes: the first stands).
 */
export type ReportOutcome = "recorded" | "repeated" | "conflicting";

const NODE_COLUMNS =
  "session_id, caller_id, callee_id, mode, started_at, ended_at, duration_ms, reason, ended_by, revoked_at, bytes_relay_node";
const PARTY_FIELDS = ["reported_at", "reason", "bytes_direct", "bytes_relay", "direct_path", "note"] as const;

/** The relay count only grows: a late report never lowers what the node already logged. */
const KEEP_LARGER_RELAY =
  "bytes_relay_node = CASE WHEN excluded.bytes_relay_node > accounting.bytes_relay_node THEN excluded.bytes_relay_node ELSE accounting.bytes_relay_node END";

function nodeValues(e: SessionEnd): SqlValue[] {
  return [
    e.sessionId,
    e.callerId,
    e.calleeId,
    e.mode,
    e.startedAt,
    e.endedAt,
    e.endedAt - e.startedAt,
    e.reason,
    e.endedBy,
    e.revokedAt ?? null,
    e.bytesRelayNode,
  ];
}

/** Each peer's columns, written once (the WHERE of the upsert), so a retried report cannot count twice. */
function reportSql(party: Party): string {
  const cols = PARTY_FIELDS.map((f) => `${party}_${f}`);
  const set = cols.map((c) => `${c} = excluded.${c}`).join(", ");
  const marks = Array.from({ length: 11 + cols.length }, () => "?").join(", ");
  return `INSERT INTO accounting (${NODE_COLUMNS}, ${cols.join(", ")}) VALUES (${marks})
    ON CONFLICT (session_id) DO UPDATE SET ${set}, ${KEEP_LARGER_RELAY}
    WHERE accounting.${party}_reported_at IS NULL`;
}
const REPORT_SQL: Record<Party, string> = { caller: reportSql("caller"), callee: reportSql("callee") };

const END_SQL = `INSERT INTO accounting (${NODE_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
  ON CONFLICT (session_id) DO UPDATE SET ${KEEP_LARGER_RELAY},
    revoked_at = coalesce(accounting.revoked_at, excluded.revoked_at)`;

interface AccountingRow {
  session_id: string;
  caller_id: string;
  callee_id: string;
  mode: SessionMode | null;
  started_at: number;
  ended_at: number;
  duration_ms: number;
  reason: string;
  ended_by: string;
  revoked_at: number | null;
  bytes_relay_node: number;
  [peerColumn: string]: string | number | null;
}

function reportOf(r: AccountingRow, party: Party): AccountingReport | null {
  const at = r[`${party}_reported_at`];
  if (at === null || at === undefined) return null;
  return {
    reportedAt: Number(at),
    reason: String(r[`${party}_reason`]),
    bytesDirect: Number(r[`${party}_bytes_direct`]),
    bytesRelay: Number(r[`${party}_bytes_relay`]),
    directPath: (r[`${party}_direct_path`] ?? null) as DirectPath | null,
    note: (r[`${party}_note`] ?? null) as string | null,
  };
}

function toEntry(r: AccountingRow): AccountingEntry {
  return {
    sessionId: r.session_id,
    callerId: r.caller_id,
    calleeId: r.callee_id,
    mode: r.mode,
    startedAt: r.started_at,
    endedAt: r.ended_at,
    durationMs: r.duration_ms,
    reason: r.reason,
    endedBy: r.ended_by,
    revokedAt: r.revoked_at,
    bytesRelayNode: r.bytes_relay_node,
    caller: reportOf(r, "caller"),
    callee: reportOf(r, "callee"),
  };
}

/**
 * The log's writes run inside the transaction that ends the session (they take its `tx`); its reads take the
 * driver. One row per session: the node's figures when it ends, each peer's report merged in as it arrives.
 */
export class AccountingStore {
  readonly #db: SqlDriver;
  constructor(db: SqlDriver) {
    this.#db = db;
  }

  /** The node's part: the row, if the session has none yet; a later call only raises the relay count or marks it revoked. */
  static async recordEnd(tx: SqlQueries, e: SessionEnd): Promise<void> {
    await tx.run(END_SQL, nodeValues(e));
  }

  /**
   * A peer's report, merged into the session's row (created with e if it has none). Relay bytes pass through the
   * node, so the logged figure is at most what it carried; direct bytes never do, so they are the peer's claim
   * (issue 21 item 4); the peer's note says which. The caller's and callee's figures stay side by side: a
   * disagreement between them is the operator's to see, never averaged away.
   */
  static async recordReport(
    tx: SqlQueries,
    e: SessionEnd,
    o: { party: Party; report: PeerReport },
  ): Promise<ReportOutcome> {
    const { party, report } = o;
    const checked = checkReportedBytes(report.bytesDirect, report.bytesRelay, e.bytesRelayNode);
    const peer = [
      report.reportedAt,
      report.reason,
      report.bytesDirect,
      checked.bytesRelay,
      report.directPath,
      checked.note,
    ];
    const { changes } = await tx.run(REPORT_SQL[party], [...nodeValues(e), ...peer]);
    if (changes > 0) return "recorded";
    const had = await tx.get<AccountingRow>("SELECT * FROM accounting WHERE session_id = ?", [e.sessionId]);
    const before = had ? reportOf(had, party) : null;
    const same =
      before !== null &&
      before.reason === report.reason &&
      before.bytesDirect === report.bytesDirect &&
      before.bytesRelay === checked.bytesRelay &&
      before.directPath === report.directPath;
    return same ? "repeated" : "conflicting";
  }

  /** The log, filtered by device (as caller or callee) and by end time [from, to), oldest end first. */
  list(
    q: { device?: string | undefined; from?: number | undefined; to?: number | undefined },
    limit = 1000,
  ): Promise<AccountingEntry[]> {
    const from = q.from ?? 0;
    const to = q.to ?? Number.MAX_SAFE_INTEGER;
    const rows =
      q.device !== undefined
        ? this.#db.all<AccountingRow>(
            "SELECT * FROM accounting WHERE (caller_id = ?1 OR callee_id = ?1) AND ended_at >= ?2 AND ended_at < ?3 ORDER BY ended_at, session_id LIMIT ?4",
            [q.device, from, to, limit],
          )
        : this.#db.all<AccountingRow>(
            "SELECT * FROM accounting WHERE ended_at >= ? AND ended_at < ? ORDER BY ended_at, session_id LIMIT ?",
            [from, to, limit],
          );
    return rows.then((all) => all.map(toEntry));
  }
}

/**
 * A peer's end report, as far as the node can check it (issue 21 item 4): relay bytes pass through the node, so
 * the logged figure is at most what it carried; direct bytes never do, so they are logged as the reporter's claim.
 */
export function checkReportedBytes(
  bytesDirect: number,
  bytesRelay: number,
  relayCarried: number,
): { bytesRelay: number; note: string | null } {
  const notes: string[] = [];
  const relay = Math.min(bytesRelay, relayCarried);
  if (relay < bytesRelay)
    notes.push(`bytesRelay capped at the ${relayCarried} the node carried (reported ${bytesRelay})`);
  if (bytesDirect > 0)
    notes.push("bytesDirect is the reporter's claim, unverified (the node carries no direct bytes)");
  return { bytesRelay: relay, note: notes.length ? notes.join("; ") : null };
}
