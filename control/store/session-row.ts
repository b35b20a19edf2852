/** @module A row of the sessions table as the stores read it, and its read (locked on PostgreSQL when asked). */
import type { SessionMode, SessionState } from "../../protocol/api-types.ts";
import type { SqlQueries, StoreKind } from "./sql-driver.ts";

export interface SessionRow {
  id: string;
  caller_id: string;
  callee_id: string;
  mode: SessionMode;
  state: SessionState;
  started_at: number;
  connect_by: number;
  expires_at: number;
  duration_sec: number;
  extensions: number;
  end_reason: string | null;
  ended_at: number | null;
  bytes_relay_node: number;
  revoked_at: number | null;
}

/** The peer-facing summary; names come from a join so a renamed or deleted device still reads. */
export interface SessionSummary {
  id: string;
  callerId: string;
  calleeId: string;
  mode: SessionMode;
  state: SessionState;
  /** The node ended it because a peer lost its permission: nothing of it may move any more. */
  revoked?: boolean;
}

/**
 * The session id, or null. `lockOn` is the backend when the row is read to be changed inside a transaction: on
 * PostgreSQL it is locked (FOR UPDATE), so two nodes ending one session at once serialise on it; sqlite's
 * transactions are serial already.
 */
export function selectSession(
  q: SqlQueries,
  id: string,
  lockOn: StoreKind | null = null,
): Promise<SessionRow | null> {
  const lock = lockOn === "postgres" ? " FOR UPDATE" : "";
  return q.get<SessionRow>(`SELECT * FROM sessions WHERE id = ?${lock}`, [id]);
}
