/** @module After a direct path broke mid-transfer: whether to send the recording again, through the relay only. */
import type { SendResult } from "./send-result.ts";

/**
 * True when a live send failed because its direct channel broke, not because anyone refused or ended it: the
 * caller's own channel failed (`direct_failed`), or the callee gave up on the channel first and ended the session
 * as "done" (its receiver reports the end that way), which reaches the caller as `session_ended` with that reason.
 * An operator's or the lease's end carries another reason and is respected. The callee abandoned the partial
 * file, so the new attempt is a new session that sends everything through the node (byte-identical, sealed).
 */
export function shouldResendThroughRelay(r: SendResult): boolean {
  if (r.ok || r.mode !== "live" || r.directPath === undefined) return false;
  if (r.code === "direct_failed") return true;
  return r.code === "session_ended" && /^session ended by the node: done$/.test(r.message);
}
