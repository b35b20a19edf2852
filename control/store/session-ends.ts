/** @module How a session ends (seed B FIG. 16): a peer's end report, a forced end by the operator, a lease the node let expire, a revocation; each logged in the accounting log. */
import type { DirectPath } from "../../protocol/api-types.ts";
import { ApiError } from "../errors/api-error.ts";
import { AccountingStore, type Party, type SessionEnd } from "./accounting-store.ts";
import { scrubDeletedSecrets } from "./scrub-deleted-secrets.ts";
import { type SessionRow, selectSession } from "./session-row.ts";
import type { SessionSummary } from "./session-store.ts";
import type { SqlDriver } from "./sql-driver.ts";

/** The end reason of a revoked session, in the accounting log and the `end` trigger. */
export const REVOKED = "revoked";

/** An end as reported: by a peer (its device id, with its figures), by "admin", or by "node". */
export interface SessionEndReport {
  reporter: string;
  reason: string;
  bytesDirect?: number;
  bytesRelay?: number;
  directPath?: DirectPath | null;
  now?: number;
}

/**
 * Records an end: the session becomes ended (if it was not) and the accounting log gets the node's figures and,
 * from a peer, its report (accounting-store.ts). A peer's repeat of the same report is answered as the first was
 * (a retry, also through another node: nothing is counted twice); one with other figures is 409 session_ended,
 * as is a second end by "admin" or "node". Returns whether this call ended it.
 */
export async function endSession(
  db: SqlDriver,
  id: string,
  e: SessionEndReport,
): Promise<{ endedNow: boolean; summary: SessionSummary }> {
  const now = e.now ?? Date.now();
  const ended = await db.transaction(async (tx) => {
    const r = await selectSession(tx, id, db.kind);
    if (!r) throw new ApiError(404, "session_not_found", `Session ${id} not found`);
    const party: Party | null =
      e.reporter === r.caller_id ? "caller" : e.reporter === r.callee_id ? "callee" : null;
    const endedNow = r.state === "active";
    if (!endedNow && party === null)
      throw new ApiError(409, "session_ended", `Session ${id} has already ended`);
    if (endedNow) {
      await tx.run("UPDATE sessions SET state = 'ended', end_reason = ?, ended_at = ? WHERE id = ?", [
        e.reason,
        now,
        id,
      ]);
      // A store session's callee fetches its key only when its load allows, typically after the sender
      // has ended the session; its grant lives until deliver_by (the spool TTL), not until the end.
      if (r.mode !== "store") await tx.run("DELETE FROM pending_grants WHERE session_id = ?", [id]);
    }
    // An ended session has its row already (every end writes it); e.reporter stands in only if it has none.
    const end = endedNow
      ? sessionEnd(r, { endedAt: now, reason: e.reason, endedBy: e.reporter })
      : sessionEnd(r, { endedAt: r.ended_at ?? now, reason: r.end_reason ?? e.reason, endedBy: e.reporter });
    if (party === null) await AccountingStore.recordEnd(tx, end);
    else {
      const report = {
        reportedAt: now,
        reason: e.reason,
        bytesDirect: e.bytesDirect ?? 0,
        bytesRelay: e.bytesRelay ?? 0,
        directPath: e.directPath ?? null,
      };
      const outcome = await AccountingStore.recordReport(tx, end, { party, report });
      if (outcome === "conflicting")
        throw new ApiError(409, "session_ended", `Session ${id}: this end was already reported`);
    }
    return {
      endedNow,
      summary: { id, callerId: r.caller_id, calleeId: r.callee_id, mode: r.mode, state: "ended" as const },
    };
  });
  if (ended.endedNow && ended.summary.mode !== "store") await scrubDeletedSecrets(db);
  return ended;
}

/**
 * Ends a session because a peer lost its permission (issue 21 item 3): ended with reason "revoked" if it was
 * active, marked revoked either way, its undelivered grant deleted whatever the mode, and logged once by "node".
 */
export async function revokeSession(db: SqlDriver, id: string, now = Date.now()): Promise<void> {
  await db.transaction(async (tx) => {
    const r = await selectSession(tx, id, db.kind);
    if (!r || r.revoked_at !== null) return;
    const endedAt = r.state === "active" ? now : (r.ended_at ?? now);
    await tx.run(
      "UPDATE sessions SET state = 'ended', end_reason = coalesce(end_reason, ?), ended_at = ?, revoked_at = ? WHERE id = ?",
      [REVOKED, endedAt, now, id],
    );
    await tx.run("DELETE FROM pending_grants WHERE session_id = ?", [id]);
    // A session ended before keeps its row (and who ended it); the row says it was revoked afterwards.
    await AccountingStore.recordEnd(tx, {
      ...sessionEnd(r, { endedAt, reason: REVOKED, endedBy: "node" }),
      revokedAt: now,
    });
  });
}

/** The node's figures of a session that has ended, for the accounting log. */
function sessionEnd(r: SessionRow, e: { endedAt: number; reason: string; endedBy: string }): SessionEnd {
  return {
    sessionId: r.id,
    callerId: r.caller_id,
    calleeId: r.callee_id,
    mode: r.mode,
    startedAt: r.started_at,
    endedAt: e.endedAt,
    reason: e.reason,
    endedBy: e.endedBy,
    bytesRelayNode: r.bytes_relay_node,
  };
}
