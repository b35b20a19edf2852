/** @module Acknowledges a live relay transfer once its recording is filed, so the node deletes the ciphertext at once. */
import { ControlApiError } from "../../protocol/control-api-error.ts";
import type { ControlClient } from "../../protocol/control-client.ts";

/** Tries of a live transfer's ack (about 20 s in all with the backoff): the node's TTL deletes it otherwise. */
const ACK_ATTEMPTS = 12;

/**
 * POST /v1/transfers/:id/ack. The node answers 409 upload_in_progress until the sender's upload request has
 * ended, which may be just after the last record reached us: retried briefly, then left to the node's TTL
 * (logged, never thrown: the recording is filed whatever happens here).
 */
export async function ackRelayTransfer(
  client: ControlClient,
  transferId: string,
  log: (event: string, fields: Record<string, unknown>) => void,
): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      await client.ackTransfer(transferId);
      log("relay-acked", { transfer: transferId });
      return;
    } catch (err) {
      const retry =
        attempt < ACK_ATTEMPTS &&
        (!(err instanceof ControlApiError) || err.status >= 500 || err.code === "upload_in_progress");
      if (!retry) {
        log("relay-ack-failed", { transfer: transferId, message: (err as Error).message });
        return;
      }
    }
    await Bun.sleep(Math.min(100 * 2 ** attempt, 2000));
  }
}
