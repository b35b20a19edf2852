/** @module Finds spool transfers nobody will finish: incomplete, and their session no longer active. */
import type { Database } from "bun:sqlite";

/**
 * Issue 21 item 11. A transfer reserves its declared size against the sender's quota from creation; one whose
 * upload was abandoned used to hold it until the TTL (7 days). An incomplete transfer can only ever be finished
 * inside its session, so once the session is no longer active (ended, expired, revoked, or gone) and no upload
 * to it is running, it is abandoned and can go.
 */
export function abandonedTransfers(
  db: Database,
  now: number,
  o: { sessionActive: (sessionId: string) => boolean; busy: ReadonlySet<string> },
): string[] {
  return db
    .query<{ id: string; session_id: string }, [number]>(
      "SELECT id, session_id FROM spool_transfers WHERE complete = 0 AND expires_at > ?",
    )
    .all(now)
    .filter((r) => !o.busy.has(r.id) && !o.sessionActive(r.session_id))
    .map((r) => r.id);
}
