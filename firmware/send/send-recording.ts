/** @module Sends one planned recording to a named device: query, direct channel and/or relay by route, receipt, lease, end report. */
import { fromBase64url } from "../../crypto/random-token.ts";
import type { QueryResponse, QueryStoreResponse } from "../../protocol/api-types.ts";
import { ControlApiError, type ControlClient } from "../../protocol/control-client.ts";
import type { DirectConnection } from "../direct/direct-connection.ts";
import { openInput, readChunks } from "../files/recording-file.ts";
import { relayKey } from "../transfer/relay-stream.ts";
import { RelayStreamEncoder } from "../transfer/relay-stream-encoder.ts";
import { LeaseKeeper } from "./lease-keeper.ts";
import { openDirectChannel } from "./open-direct-channel.ts";
import { encodeFromFile, manifestFor, STREAM_OF } from "./relay-sources.ts";
import { createRelay, uploadFromFile, uploadWhole } from "./relay-transfers.ts";
import { completeUpload, UploadAttempt } from "./relay-upload.ts";
import { SendFailure, sendFailureCode } from "./send-failure.ts";
import type { SendPlan } from "./send-plan.ts";
import type { SendOptions, SendResult } from "./send-result.ts";
import { type LiveRelay, patternEncoder, siblingOf, splitPass } from "./split-pass.ts";

export { DEFAULT_DIAL_TIMEOUT_MS } from "./open-direct-channel.ts";
export type { SendEvent, SendOptions, SendResult } from "./send-result.ts";

const REFUSALS = new Set(["permission_denied", "callee_not_found", "callee_not_connected", "callee_busy"]);

export async function sendRecording(o: SendOptions): Promise<SendResult> {
  const { client, plan } = o;
  const log = (message: string) => o.onEvent?.({ type: "log", message });
  const result: SendResult = {
    ok: false,
    message: "",
    mode: "none",
    route: plan.route,
    fallback: false,
    bytesDirect: 0,
    bytesRelay: 0,
    bytesRelayPayload: 0,
    sha256: plan.sha256,
    extensions: 0,
    forcedEnd: false,
    transfers: [],
    ...(plan.split ? { iPictures: plan.split.iPictures, protection: plan.split.protection } : {}),
  };
  if (plan.split?.protectionNote) log(plan.split.protectionNote);

  let answer: ({ status: 200 } & QueryResponse) | ({ status: 202 } & QueryStoreResponse);
  try {
    answer = await queryWithStore(o);
  } catch (err) {
    if (err instanceof ControlApiError) {
      result.code = err.code;
      result.message = REFUSALS.has(err.code)
        ? `${o.to}: ${err.code.replaceAll("_", " ")}`
        : `query for ${o.to} failed: ${err.message}`;
      return result;
    }
    throw err;
  }
  const session = answer.session;
  result.sessionId = session.id;
  const key = await relayKey(fromBase64url(session.key));
  const abort = new AbortController();
  let conn: DirectConnection | undefined;
  let sessionEndedReason: string | undefined;
  let awaitingPeerEnd = false;
  let peerEnded: (() => void) | undefined;
  const live: LiveRelay[] = [];
  const lease = new LeaseKeeper(client, session.id, session.expiresAt, {
    extended: (expiresAt, n) => {
      result.extensions = n;
      conn?.setExpiry(expiresAt);
      log(`session extended to ${new Date(expiresAt).toISOString()} (extension ${n})`);
    },
    refused: (message) => log(`extension refused: ${message}`),
    ended: (reason) => {
      sessionEndedReason = reason;
      // Without a direct channel the callee's "done" end is its receipt, even if it comes before we wait for it.
      const peerDone = reason === "done" && conn === undefined && result.mode === "live";
      if (!awaitingPeerEnd && !peerDone) {
        result.forcedEnd = true;
        abort.abort(new SendFailure("session_ended", `session ended by the node: ${reason}`));
      }
      peerEnded?.();
    },
  });

  try {
    if (answer.status === 202) {
      result.mode = "store";
      log(`${answer.callee.name} is busy; storing the recording on the node for later pickup (encrypted)`);
      await uploadWhole(o, session.id, key, "store", result, abort.signal, () => lease.expiresAt);
      result.ok = true;
      result.message = `stored on the node for ${answer.callee.name}; it will be picked up when its load allows`;
      // The accounting log gets this session's end like any other; the node keeps a store session's grant
      // (the callee's key for the pickup) until the spool's TTL, and the callee keeps it past the end trigger.
      lease.stop();
      await reportEnd(client, session.id, "stored", result);
      return result;
    }
    result.mode = "live";
    const callee = answer.callee;
    const target =
      o.dialOverride ??
      (callee.address !== null && callee.port !== null
        ? { host: callee.address, port: callee.port }
        : undefined);
    conn = await openDirectChannel(o, { session, callee, target, result, signal: abort.signal });
    if (result.fallback) {
      log(
        `direct connection to ${callee.name} failed (${result.fallbackReason}); sending everything through the node, encrypted`,
      );
    }
    const onConnClosed = conn?.closed.then((e) => {
      if (e?.code === "ERR_DIRECT_CLOSED" && e.reason === "ended") {
        result.forcedEnd = true;
        abort.abort(new SendFailure("session_ended", "the peer ended the session"));
      }
    });
    void onConnClosed;

    if (plan.route === "secret" || (plan.route === "data" && conn === undefined)) {
      const transfer = await createRelay(o, session.id, "whole", result);
      if (conn) {
        await conn.send({
          type: "offer",
          kind: "relay",
          size: plan.size,
          name: plan.name,
          meta: offerMeta(plan, { transferId: transfer.id, stream: STREAM_OF.whole }),
        });
      }
      await uploadFromFile(
        o,
        session.id,
        key,
        transfer,
        "whole",
        result,
        abort.signal,
        () => lease.expiresAt,
      );
      result.bytesRelayPayload = plan.size;
    } else if (plan.route === "data" && conn) {
      await conn.send({
        type: "offer",
        kind: "data",
        size: plan.size,
        name: plan.name,
        meta: offerMeta(plan),
      });
      await using input = await openInput(plan.path);
      result.bytesDirect = await conn.sendStream(
        readChunks(input, { reuse: true }),
        (done) => o.onEvent?.({ type: "progress", done, total: plan.size }),
        { clear: true },
      );
      if (result.bytesDirect !== plan.size) {
        throw new SendFailure("source_changed", `${plan.path} changed while being sent`);
      }
    } else {
      const split = plan.split;
      if (!split) throw new TypeError("Cannot send a split without its plan");
      // In a fallback the direct part's transfer is made first so the protected one can name it as sibling.
      const directTransfer = conn ? undefined : await createRelay(o, session.id, "direct", result);
      const protectedTransfer = await createRelay(o, session.id, "protected", result, directTransfer?.id);
      for (const [part, t] of [
        ["protected", protectedTransfer],
        ["direct", directTransfer],
      ] as const) {
        if (!t) continue;
        live.push({
          part,
          transfer: t,
          encoder: new RelayStreamEncoder(key, session.id, STREAM_OF[part]),
          attempt: new UploadAttempt(client, t.id, 0),
        });
      }
      // Pattern mode applies to the direct part on the direct channel; through the relay (fallback) the part is
      // sealed whole already, so it travels plain there.
      const pattern =
        conn && split.pattern ? await patternEncoder(split.pattern, fromBase64url(session.key)) : undefined;
      if (split.pattern && !conn) {
        log("pattern mode: the direct part goes sealed through the node, so it needs no pattern encryption");
        result.protection = "seed";
      }
      if (pattern) result.patternBytes = split.pattern?.encryptedBytes ?? 0;
      if (conn) {
        await conn.send({
          type: "offer",
          kind: "split",
          size: plan.size,
          name: plan.name,
          meta: {
            ...offerMeta(plan, { transferId: protectedTransfer.id, stream: STREAM_OF.protected }),
            directSize: split.directSize + (pattern?.addedBytes ?? 0),
            ...(pattern ? { protection: "pattern" } : {}),
          },
        });
      }
      await splitPass(o, live, conn, result, abort.signal, pattern);
      for (const l of live) {
        const r = await completeUpload(
          client,
          l.transfer,
          l.attempt,
          () =>
            encodeFromFile(
              key,
              session.id,
              plan,
              l.part,
              manifestFor(plan, l.part, o.deviceName, siblingOf(l, live)),
            ),
          { log, signal: abort.signal, deadline: () => lease.expiresAt },
        );
        if (r.attempts > 1)
          log(`relay transfer ${l.transfer.id} resumed and completed (${r.attempts} attempts)`);
      }
      result.bytesRelayPayload = split.protectedSize + (conn ? 0 : split.directSize);
    }

    if (conn) {
      await conn.send({ type: "end", size: plan.size, sha256: plan.sha256 });
      const receipt = await waitReceipt(conn, abort.signal);
      if (!receipt.ok || receipt.sha256 !== plan.sha256) {
        throw new SendFailure(
          receipt.code ?? "receipt_failed",
          `${callee.name} could not verify the recording (${receipt.code ?? "hash mismatch"})`,
        );
      }
      lease.stop();
      await conn.close("done");
      result.ok = true;
      result.message = `${callee.name} verified and filed ${plan.name} (${plan.size} bytes, SHA-256 ${plan.sha256.slice(0, 16)}…)`;
    } else {
      // No direct channel, so no RECEIPT: the callee reports the session's end ("done") once it has filed it.
      awaitingPeerEnd = true;
      log(`uploaded; waiting for ${callee.name} to fetch and verify it from the node`);
      if (sessionEndedReason === undefined) {
        await new Promise<void>((resolve) => {
          const done = () => {
            clearTimeout(t);
            resolve();
          };
          peerEnded = done;
          const t = setTimeout(done, Math.max(0, lease.expiresAt - Date.now()));
          abort.signal.addEventListener("abort", done, { once: true });
        });
      }
      if (sessionEndedReason !== "done") {
        throw new SendFailure(
          "no_confirmation",
          `${callee.name} did not confirm the recording (${sessionEndedReason ?? "lease ran out"})`,
        );
      }
      result.ok = true;
      result.message = `${callee.name} fetched and filed ${plan.name} from the node (${plan.size} bytes)`;
    }
    lease.stop();
    await reportEnd(client, session.id, "done", result);
    return result;
  } catch (err) {
    lease.stop();
    const reason = abort.signal.aborted ? (abort.signal.reason as SendFailure) : undefined;
    const failure = reason instanceof SendFailure ? reason : err;
    result.code = sendFailureCode(failure);
    result.message = (failure as Error).message;
    if (result.code !== "session_ended") {
      // A forced end reaches the caller as a broken channel or upload; the node says what really happened.
      const st = await client.session(session.id).catch(() => undefined);
      if (st?.state === "ended" && st.reason !== null && !/^(done|failed)/.test(st.reason)) {
        result.code = "session_ended";
        result.message = `the session was ended by the node (${st.reason}); ${result.message}`;
      }
    }
    if (result.code === "session_ended") result.forcedEnd = true;
    if (conn) await conn.abort(result.forcedEnd ? "ended" : "error").catch(() => {});
    // The end report carries what went direct before the failure (the finally below would set it too late).
    if (conn) result.bytesDirect = conn.bytesSent;
    for (const l of live) await l.attempt.finish();
    if (!result.forcedEnd) await reportEnd(client, session.id, `failed: ${result.code}`, result);
    else await reportEnd(client, session.id, "ended", result);
    return result;
  } finally {
    lease.stop();
    if (conn) result.bytesDirect = conn.bytesSent;
  }
}

function offerMeta(plan: SendPlan, relay?: { transferId: string; stream: number }): Record<string, unknown> {
  return {
    sha256: plan.sha256,
    recordingType: plan.recordingType,
    secret: plan.secret,
    ...(relay ? { relay } : {}),
  };
}

async function queryWithStore(
  o: SendOptions,
): Promise<({ status: 200 } & QueryResponse) | ({ status: 202 } & QueryStoreResponse)> {
  if (o.storeIfBusy === true) return o.client.query(o.to, { storeIfBusy: true });
  try {
    return await o.client.query(o.to);
  } catch (err) {
    if (err instanceof ControlApiError && err.code === "callee_busy" && typeof o.storeIfBusy === "function") {
      if (await o.storeIfBusy()) return o.client.query(o.to, { storeIfBusy: true });
    }
    throw err;
  }
}

async function waitReceipt(
  conn: DirectConnection,
  signal: AbortSignal,
): Promise<{ ok: boolean; sha256?: string; code?: string }> {
  const aborted = new Promise<never>((_, reject) => {
    if (signal.aborted) reject(signal.reason);
    signal.addEventListener("abort", () => reject(signal.reason), { once: true });
  });
  aborted.catch(() => {});
  for (;;) {
    const m = await Promise.race([conn.receive(), aborted]);
    if (m === undefined) throw new SendFailure("no_receipt", "the peer closed the channel without a receipt");
    if (m.type === "receipt") return m;
  }
}

async function reportEnd(
  client: ControlClient,
  sessionId: string,
  reason: string,
  r: SendResult,
): Promise<void> {
  try {
    await client.end(sessionId, {
      reason: reason.replace(/[^a-z0-9_:]/g, "_").slice(0, 64),
      bytesDirect: r.bytesDirect,
      ...(r.directPath && r.bytesDirect > 0 ? { directPath: r.directPath } : {}),
      bytesRelay: r.bytesRelay,
    });
  } catch {
    // Already ended (by the peer or an operator): the node has its own record.
  }
}
