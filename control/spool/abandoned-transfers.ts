/** @module Finds spool transfers nobody will finish: incomplete, and their session no longer active. */
import type { SpoolEntry } from "./spool-entry.ts";

/**
 * Issue 21 item 11. A transfer reserves its declared size against the sender's quota from creation; one whose
 * upload was abandoned used to hold it until the TTL (7 days). An incomplete transfer can only ever be finished
 * inside its session, so once the session is no longer active (ended, expired, revoked, or gone) and no upload
 * to it is running, it is abandoned and can go. `incomplete` is the index's incomplete live transfers.
 */
export function abandonedTransfers(
  incomplete: readonly SpoolEntry[],
  o: { sessionActive: (sessionId: string) => boolean; busy: ReadonlySet<string> },
): string[] {
  return incomplete.filter((e) => !o.busy.has(e.id) && !o.sessionActive(e.sessionId)).map((e) => e.id);
}
