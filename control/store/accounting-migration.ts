/** @module The migration from one accounting row per (session, reporter) to one per session, in either backend's dialect. */

/**
 * Column types differ between the backends (ms timestamps and byte counts are BIGINT on PostgreSQL, and ids
 * compare bytewise there with COLLATE "C"); the statements are otherwise the same on both.
 */
export interface AccountingDialect {
  int: "INTEGER" | "BIGINT";
  id: "TEXT" | 'TEXT COLLATE "C"';
}

/**
 * Rebuilds `accounting` as one row per session (accounting-store.ts): the node's figures (who ended it, why,
 * when, the relay bytes it counted itself) and, beside them, the caller's and the callee's reports, each in its
 * own columns so a disagreement stays visible. Existing rows are folded in: the session's first row (lowest
 * seq) is the report that ended it, so its reporter is `ended_by`; the caller's and callee's rows become their
 * columns. The old log kept no arrival time for a report, so a migrated report's `reported_at` is the session's
 * end. The relay count comes from the session itself (the node's own figure), else the largest logged one.
 * A repeat end by "admin" or "node" after a peer had ended the session carried no figures and is not kept.
 */
export function accountingPerSessionMigration(d: AccountingDialect): string {
  const party = (p: string) => `
    ${p}_reported_at ${d.int},
    ${p}_reason TEXT,
    ${p}_bytes_direct ${d.int},
    ${p}_bytes_relay ${d.int},
    ${p}_direct_path TEXT,
    ${p}_note TEXT`;
  return `
  CREATE TEMP TABLE accounting_by_reporter AS SELECT * FROM accounting;
  DROP TABLE accounting;
  CREATE TABLE accounting (
    session_id ${d.id} PRIMARY KEY,
    caller_id TEXT NOT NULL,
    callee_id TEXT NOT NULL,
    mode TEXT,
    started_at ${d.int} NOT NULL,
    ended_at ${d.int} NOT NULL,
    duration_ms ${d.int} NOT NULL,
    reason TEXT NOT NULL,
    ended_by TEXT NOT NULL,
    revoked_at ${d.int},
    bytes_relay_node ${d.int} NOT NULL DEFAULT 0,${party("caller")},${party("callee")}
  );
  CREATE INDEX accounting_by_time ON accounting(ended_at);
  CREATE INDEX accounting_by_caller ON accounting(caller_id, ended_at);
  CREATE INDEX accounting_by_callee ON accounting(callee_id, ended_at);
  INSERT INTO accounting (
    session_id, caller_id, callee_id, mode, started_at, ended_at, duration_ms, reason, ended_by, revoked_at,
    bytes_relay_node,
    caller_reported_at, caller_reason, caller_bytes_direct, caller_bytes_relay, caller_direct_path, caller_note,
    callee_reported_at, callee_reason, callee_bytes_direct, callee_bytes_relay, callee_direct_path, callee_note
  )
  SELECT f.session_id, f.caller_id, f.callee_id, s.mode, f.started_at, f.ended_at, f.duration_ms,
    coalesce(s.end_reason, f.reason), f.reporter, s.revoked_at,
    coalesce(s.bytes_relay_node, (SELECT max(x.bytes_relay) FROM accounting_by_reporter x WHERE x.session_id = f.session_id)),
    c.ended_at, c.reason, c.bytes_direct, c.bytes_relay, c.direct_path, c.note,
    e.ended_at, e.reason, e.bytes_direct, e.bytes_relay, e.direct_path, e.note
  FROM accounting_by_reporter f
  LEFT JOIN sessions s ON s.id = f.session_id
  LEFT JOIN accounting_by_reporter c ON c.session_id = f.session_id AND c.reporter = f.caller_id
  LEFT JOIN accounting_by_reporter e ON e.session_id = f.session_id AND e.reporter = f.callee_id
  WHERE f.seq = (SELECT min(y.seq) FROM accounting_by_reporter y WHERE y.session_id = f.session_id);
  DROP TABLE accounting_by_reporter;
  `;
}
