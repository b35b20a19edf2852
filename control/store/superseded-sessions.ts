/** @module A QUERY retried with the same idempotency key: the earlier attempt's session is ended as `superseded`, so a retry never leaves two live sessions. */
import type { SessionMode } from "../../protocol/api-types.ts";
import { ApiError } from "../errors/api-error.ts";
import { AccountingStore } from "./accounting-store.ts";
import type { SqlQueries } from "./sql-driver.ts";

/** The end reason of a session a retried QUERY replaced, in the accounting log and the session's status. */
export const SUPERSEDED = "superseded";

/** What identifies the attempts of one QUERY: the caller's key, and when this attempt reached a node. */
export interface QueryRetry {
  key: string;
  /** ms; attempts are ordered by arrival, so a slow first attempt finishing late cannot end its retry's session. */
  queryAt: number;
}

/**
 * Inside the issuing transaction, before the new session is inserted. The answer of a QUERY holds a one-time
 * password the node must not keep in clear, so a retry cannot be answered with the earlier session: it gets a
 * fresh one, and the earlier (still active) one is ended here as superseded, its undelivered grant deleted and
 * its accounting row written with the node as the one who ended it. An attempt older than one already issued for the key is
 * refused (409 superseded): the client is waiting for the newer one. Returns the ids it ended.
 */
export async function supersedeEarlier(
  tx: SqlQueries,
  o: { callerId: string; retry: QueryRetry; now: number },
): Promise<string[]> {
  const rows = await tx.all<{
    id: string;
    callee_id: string;
    mode: SessionMode;
    state: string;
    started_at: number;
    bytes_relay_node: number;
    query_at: number | null;
  }>(
    "SELECT id, callee_id, mode, state, started_at, bytes_relay_node, query_at FROM sessions WHERE caller_id = ? AND idempotency_key = ?",
    [o.callerId, o.retry.key],
  );
  if (rows.some((r) => (r.query_at ?? 0) > o.retry.queryAt)) {
    throw new ApiError(409, "superseded", "A later attempt of this query holds its session");
  }
  const ended: string[] = [];
  for (const r of rows) {
    if (r.state !== "active") continue;
    await tx.run(
      "UPDATE sessions SET state = 'ended', end_reason = ?, ended_at = ? WHERE id = ? AND state = 'active'",
      [SUPERSEDED, o.now, r.id],
    );
    await tx.run("DELETE FROM pending_grants WHERE session_id = ?", [r.id]);
    await AccountingStore.recordEnd(tx, {
      sessionId: r.id,
      callerId: o.callerId,
      calleeId: r.callee_id,
      mode: r.mode,
      startedAt: r.started_at,
      endedAt: o.now,
      reason: SUPERSEDED,
      endedBy: "node",
      bytesRelayNode: r.bytes_relay_node,
    });
    ended.push(r.id);
  }
  return ended;
}
