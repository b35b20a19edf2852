/** @module `send --cancel`: gives up an interrupted store-and-forward send, so the node drops the partial upload and frees the quota at once. */
import { ControlApiError } from "../../protocol/control-api-error.ts";
import type { ControlClient } from "../../protocol/control-client.ts";
import type { CancellableStoreSend } from "./pending-store-send.ts";

/** Answers that mean the node holds nothing of it any more: the transfer or the session is already gone. */
const ALREADY_GONE = new Set(["transfer_not_found", "session_not_found", "session_ended"]);

function unlessGone(err: unknown): void {
  if (!(err instanceof ControlApiError && ALREADY_GONE.has(err.code))) throw err;
}

/**
 * Cancels the transfer (DELETE /v1/transfers/:id, issue 21 item 11: only its sender may) and ends the store
 * session, so the callee is never told to pick up half a recording and the accounting log has the session.
 * Idempotent: a transfer or session the node already dropped counts as cancelled. Returns the bytes the node
 * held before (from the transfer's status), for the summary.
 */
export async function cancelStoreSend(client: ControlClient, pending: CancellableStoreSend): Promise<number> {
  let held = 0;
  try {
    held = (await client.transfer(pending.transfer.id)).received;
    await client.cancelTransfer(pending.transfer.id);
  } catch (err) {
    unlessGone(err);
  }
  await client
    .end(pending.sessionId, { reason: "cancelled", bytesDirect: 0, bytesRelay: 0 })
    .catch(unlessGone);
  return held;
}
