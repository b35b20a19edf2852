/** @module `send --resume` of a live send that fell back to the relay: its sealed streams re-encoded, uploaded from the node's offsets, and the callee's "done" awaited as the first process would have. */
import { fromBase64url } from "../../crypto/random-token.ts";
import { END_DONE, END_DONE_ALREADY_HELD, type SessionStatus } from "../../protocol/api-types.ts";
import { ControlApiError } from "../../protocol/control-api-error.ts";
import { relayKey } from "../transfer/relay-stream.ts";
import { relayStreamSize } from "../transfer/relay-stream-encoder.ts";
import { LeaseKeeper } from "./lease-keeper.ts";
import type { PendingFallbackSend, PendingFallbackTransfer } from "./pending-fallback-send.ts";
import {
  manifestFor,
  type RelayStreamSpec,
  type RelayUploadContext,
  uploadFromFile,
} from "./relay-upload.ts";
import { startResult } from "./send-recording.ts";
import type { SendOptions, SendResult } from "./send-result.ts";

/** The stable code of a resume whose session is over: the node has dropped the partial uploads. */
export const RESUME_EXPIRED = "resume_expired";

function specOf(pending: PendingFallbackSend, t: PendingFallbackTransfer): RelayStreamSpec {
  return { part: t.part, sender: pending.sender, siblingTransferId: t.siblingTransferId };
}

/** The session as the node sees it; undefined when the node no longer knows it (404). */
async function sessionOf(o: Pick<SendOptions, "client">, id: string): Promise<SessionStatus | undefined> {
  try {
    return await o.client.session(id);
  } catch (err) {
    if (err instanceof ControlApiError && err.status === 404) return undefined;
    throw err;
  }
}

/**
 * Finishes an interrupted fallback send in the same session: each stream re-encoded under the saved key and
 * enc (sealing is deterministic), only what the node lacks uploaded, each transfer completed; the callee, which
 * kept following the growing transfers, files the recording and ends the session "done". A failure lands in
 * the result, never thrown; `resume_expired` when the session is over (its lease ran out, or it was ended).
 */
export async function resumeFallbackSend(
  o: Pick<SendOptions, "client" | "plan" | "onEvent">,
  pending: PendingFallbackSend,
): Promise<SendResult> {
  const { plan, client } = o;
  const result = startResult(plan);
  result.mode = "live";
  result.fallback = true;
  result.fallbackReason = "resumed through the node (no direct channel)";
  result.sessionId = pending.sessionId;
  result.transfers = pending.transfers.map((t) => t.id);
  const log = (message: string) => o.onEvent?.({ type: "log", message });
  const storeEnc = pending.enc === undefined ? undefined : fromBase64url(pending.enc);
  for (const t of pending.transfers) {
    const size = relayStreamSize(manifestFor(plan, specOf(pending, t)), { store: storeEnc !== undefined });
    if (plan.sha256 !== pending.sha256 || size !== t.size) {
      result.code = "resume_mismatch";
      result.message = `the recording is not the one the interrupted send was uploading (${size} sealed bytes, expected ${t.size})`;
      return result;
    }
  }
  let status: SessionStatus | undefined;
  try {
    status = await sessionOf(o, pending.sessionId);
  } catch (err) {
    result.code = "relay_upload_failed";
    result.message = `cannot ask the node about session ${pending.sessionId}: ${(err as Error).message}`;
    return result;
  }
  // Killed while it waited for the callee's "done": the callee filed it meanwhile, nothing is left to send.
  if (status?.state === "ended" && (status.reason === END_DONE || status.reason === END_DONE_ALREADY_HELD)) {
    result.ok = true;
    result.alreadyHeld = status.reason === END_DONE_ALREADY_HELD;
    result.nodeHeld = pending.transfers.reduce((n, t) => n + t.size, 0);
    result.message = `${pending.to} had already fetched and filed ${plan.name} from the node before the interruption`;
    return result;
  }
  if (status === undefined || status.state === "ended" || status.expiresAt <= Date.now()) {
    result.code = RESUME_EXPIRED;
    result.message = `the interrupted send's session ${pending.sessionId} is over (${status?.reason ?? "lease ended"}), and the node dropped its partial uploads`;
    return result;
  }
  const abort = new AbortController();
  let endedReason: string | undefined;
  let awaiting = false;
  let wake: () => void = () => {};
  const lease = new LeaseKeeper(client, status, {
    extended: (expiresAt, n) => {
      result.extensions = n;
      log(`session extended to ${new Date(expiresAt).toISOString()} (extension ${n})`);
    },
    refused: (message) => log(`extension refused: ${message}`),
    ended: (reason) => {
      endedReason = reason;
      if (!awaiting && reason !== END_DONE && reason !== END_DONE_ALREADY_HELD) {
        result.forcedEnd = true;
        abort.abort(new Error(`session ended by the node: ${reason}`));
      }
      wake();
    },
  });
  const rc: RelayUploadContext = {
    client,
    plan,
    seal: { key: await relayKey(fromBase64url(pending.key)), sessionId: pending.sessionId, storeEnc },
    signal: abort.signal,
    deadline: () => lease.expiresAt,
    log,
    progress: (done) => o.onEvent?.({ type: "progress", done, total: plan.size }),
  };
  try {
    let held = 0;
    for (const t of pending.transfers) {
      const info = await client.transfer(t.id);
      held += info.complete ? t.size : info.received;
      result.bytesRelay += info.complete ? 0 : t.size - info.received;
      if (info.complete) continue;
      log(`resuming relay transfer ${t.id} (${t.part}): the node holds ${info.received} of ${t.size} bytes`);
      await uploadFromFile(rc, t, specOf(pending, t), { startAtNode: true });
    }
    result.nodeHeld = held;
    result.bytesRelayPayload = plan.size;
    awaiting = true;
    log(`uploaded; waiting for ${pending.to} to fetch and verify it from the node`);
    if (endedReason === undefined) {
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, Math.max(0, lease.expiresAt - Date.now()));
        wake = () => {
          clearTimeout(t);
          resolve();
        };
      });
    }
  } catch (err) {
    result.code = result.forcedEnd
      ? "session_ended"
      : ((err as { code?: string }).code ?? "relay_upload_failed");
    result.message = `cannot resume the send to ${pending.to}: ${(abort.signal.reason as Error | undefined)?.message ?? (err as Error).message}`;
  } finally {
    lease.stop();
  }
  if (result.code === undefined) {
    if (endedReason === END_DONE || endedReason === END_DONE_ALREADY_HELD) {
      result.ok = true;
      result.alreadyHeld = endedReason === END_DONE_ALREADY_HELD;
      result.message = `${pending.to} fetched and filed ${plan.name} from the node (${plan.size} bytes)`;
    } else {
      result.code = "no_confirmation";
      result.message = `${pending.to} did not confirm the recording (${endedReason ?? "lease ran out"})`;
    }
  }
  await client
    .end(pending.sessionId, {
      reason: result.ok ? "done" : result.forcedEnd ? "ended" : `failed:_${result.code}`.slice(0, 64),
      bytesDirect: 0,
      bytesRelay: result.bytesRelay,
    })
    // Already ended (by the callee, the node or an operator): the node has its own record.
    .catch(() => {});
  return result;
}
