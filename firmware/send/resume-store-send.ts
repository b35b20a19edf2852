/** @module `send --resume`: finishes the upload of a store-and-forward send a previous process began, at the node's offset. */
import { fromBase64url } from "../../crypto/random-token.ts";
import { ControlApiError } from "../../protocol/control-api-error.ts";
import { relayKey } from "../transfer/relay-stream.ts";
import { relayStreamSize } from "../transfer/relay-stream-encoder.ts";
import type { PendingStoreSend } from "./pending-store-send.ts";
import { manifestFor, type RelayUploadContext, uploadFromFile } from "./relay-upload.ts";
import { startResult } from "./send-recording.ts";
import type { SendOptions, SendResult } from "./send-result.ts";

/**
 * Re-encodes the same sealed stream (sealing is deterministic under the saved key and enc) and uploads what the
 * node does not hold yet, completes the transfer and reports the session's end, as the first process would have.
 * A failure lands in the result, never thrown: the record stays for another try while the lease lasts.
 */
export async function resumeStoreSend(
  o: Pick<SendOptions, "client" | "deviceName" | "plan" | "onEvent">,
  pending: PendingStoreSend,
): Promise<SendResult> {
  const result = startResult(o.plan);
  result.mode = "store";
  result.sessionId = pending.sessionId;
  result.transfers = [pending.transfer.id];
  const log = (message: string) => o.onEvent?.({ type: "log", message });
  const spec = { part: "whole" as const, sender: o.deviceName, siblingTransferId: undefined };
  // The same file gives the same stream only if nothing about it changed: its size decides.
  const storeEnc = pending.enc === undefined ? undefined : fromBase64url(pending.enc);
  const size = relayStreamSize(manifestFor(o.plan, spec), { store: storeEnc !== undefined });
  if (o.plan.sha256 !== pending.sha256 || size !== pending.transfer.size) {
    result.code = "resume_mismatch";
    result.message = `the recording is not the one the interrupted send was storing (${size} sealed bytes, expected ${pending.transfer.size})`;
    return result;
  }
  const abort = new AbortController();
  const rc: RelayUploadContext = {
    client: o.client,
    plan: o.plan,
    seal: { key: await relayKey(fromBase64url(pending.key)), sessionId: pending.sessionId, storeEnc },
    signal: abort.signal,
    deadline: () => pending.expiresAt,
    log,
    progress: (done) => o.onEvent?.({ type: "progress", done, total: o.plan.size }),
  };
  try {
    log(`resuming the store of ${o.plan.name} for ${pending.calleeName} (transfer ${pending.transfer.id})`);
    await uploadFromFile(rc, pending.transfer, spec, { startAtNode: true });
  } catch (err) {
    result.code = (err as { code?: string }).code ?? "relay_upload_failed";
    result.message = `cannot resume the store for ${pending.calleeName}: ${(err as Error).message}`;
    return result;
  }
  result.bytesRelay = pending.transfer.size;
  result.bytesRelayPayload = o.plan.size;
  result.ok = true;
  result.message = `stored on the node for ${pending.calleeName}; it will be picked up when it can take it`;
  try {
    await o.client.end(pending.sessionId, {
      reason: "stored",
      bytesDirect: 0,
      bytesRelay: result.bytesRelay,
    });
  } catch (err) {
    // Already ended (by the node or an operator): the node has its own record.
    if (!(err instanceof ControlApiError)) throw err;
  }
  return result;
}
