/** @module Sends one planned recording to a named device, in named steps over one SendContext: query, dial, route, receipt, end report. */
import { fromBase64url } from "../../crypto/random-token.ts";
import {
  END_DONE,
  END_DONE_ALREADY_HELD,
  type PeerInfo,
  type QueryResponse,
  type QueryStoreResponse,
} from "../../protocol/api-types.ts";
import { ControlApiError } from "../../protocol/control-api-error.ts";
import type { DirectConnection } from "../direct/direct-connection.ts";
import { relayKey } from "../transfer/relay-stream.ts";
import { sealToCallee } from "./callee-seal.ts";
import { LeaseKeeper } from "./lease-keeper.ts";
import { openDirectChannel } from "./open-direct-channel.ts";
import type { SendContext } from "./send-context.ts";
import { SendFailure, sendFailureCode } from "./send-failure.ts";
import type { SendPlan } from "./send-plan.ts";
import type { SendOptions, SendResult } from "./send-result.ts";
import { sendByRoute, sendStore } from "./send-routes.ts";
import { storeOfferOf } from "./store-offer.ts";

export { DEFAULT_DIAL_TIMEOUT_MS } from "./open-direct-channel.ts";
export type { SendEvent, SendOptions, SendResult } from "./send-result.ts";

const REFUSALS = new Set(["permission_denied", "callee_not_found", "callee_not_connected", "callee_busy"]);

type QueryAnswer = ({ status: 200 } & QueryResponse) | ({ status: 202 } & QueryStoreResponse);

/**
 * Query the node for a session with the callee; then either store (callee busy) or dial the direct channel,
 * send by the route and wait for the callee's receipt. Every session granted ends with an end report, so the
 * node's accounting log is complete; a failure is accounted for in the result, never thrown.
 */
export async function sendRecording(o: SendOptions): Promise<SendResult> {
  const result = startResult(o.plan);
  if (o.plan.split?.protectionNote) o.onEvent?.({ type: "log", message: o.plan.split.protectionNote });
  const answer = await queryCallee(o, result);
  if (answer === undefined) return result;
  if (!(await calleeTrusted(o, answer, result))) return result;
  const ctx = await openSend(o, answer, result);
  try {
    if (answer.status === 202) {
      await sendStore(ctx, answer.code === "callee_not_connected" ? "off" : "busy");
      // The accounting log gets this session's end like any other; the node keeps a store session's grant
      // (the callee's key for the pickup) until the spool's TTL, and the callee keeps it past the end trigger.
      ctx.lease.stop();
      await reportEnd(ctx, "stored");
      return result;
    }
    result.mode = "live";
    await connectDirect(ctx, answer.callee);
    await sendByRoute(ctx);
    if (ctx.conn) await awaitReceipt(ctx, ctx.conn);
    else await awaitPeerEnd(ctx);
    ctx.lease.stop();
    await reportEnd(ctx, "done");
    return result;
  } catch (err) {
    await accountFailure(ctx, err);
    return result;
  } finally {
    ctx.lease.stop();
    if (ctx.conn) result.bytesDirect = ctx.conn.bytesSent;
  }
}

/** A send's result before any step: nothing sent (send --resume starts from it too). */
export function startResult(plan: SendPlan): SendResult {
  return {
    ok: false,
    message: "",
    mode: "none",
    route: plan.route,
    rule: plan.rule,
    fallback: false,
    bytesDirect: 0,
    bytesRelay: 0,
    bytesRelayPayload: 0,
    sha256: plan.sha256,
    extensions: 0,
    forcedEnd: false,
    transfers: [],
    ...(plan.split ? { iPictures: plan.split.iPictures, protection: plan.split.protection } : {}),
    ...(plan.route === "data" ? { protection: plan.sealDirect ? "sealed" : "seed" } : {}),
  };
}

/** Asks the node for a session with the callee (a store session if it is busy and that is accepted); a refusal lands in the result. */
async function queryCallee(o: SendOptions, result: SendResult): Promise<QueryAnswer | undefined> {
  try {
    return await queryWithStore(o);
  } catch (err) {
    if (!(err instanceof ControlApiError)) throw err;
    result.code = err.code;
    result.message = REFUSALS.has(err.code)
      ? `${o.to}: ${err.code.replaceAll("_", " ")}`
      : `query for ${o.to} failed: ${err.message}`;
    if (err.code === "callee_busy") {
      result.store = storeOfferOf(err);
      if (!result.store.offered) result.message += `; ${result.store.message} (${result.store.reason})`;
    }
    return undefined;
  }
}

/**
 * The query tells the node the size, so a busy answer carries the node's store offer (seed A S2611). With
 * --store-if-busy the offer is accepted in the same query; the prompt is asked only when the node offers.
 */
async function queryWithStore(o: SendOptions): Promise<QueryAnswer> {
  const size = o.plan.size;
  if (o.storeIfBusy === true) return o.client.query(o.to, { storeIfBusy: true, size });
  try {
    return await o.client.query(o.to, { size });
  } catch (err) {
    // Busy or off (issue 19 item 7): either way the node can keep it until the callee picks it up, when it
    // offers to (seed A S2611: its size threshold and the caller's quota allow).
    const storable =
      err instanceof ControlApiError && (err.code === "callee_busy" || err.code === "callee_not_connected");
    if (storable && typeof o.storeIfBusy === "function") {
      if (storeOfferOf(err).offered && (await o.storeIfBusy())) {
        return o.client.query(o.to, { storeIfBusy: true, size });
      }
    }
    throw err;
  }
}

/**
 * Checks the callee's identity key against this recorder's pin and, when trusted, replaces the node's session
 * key by the transfer key both recorders derive (firmware/identity): a refusal sends nothing and ends the session.
 */
async function calleeTrusted(o: SendOptions, answer: QueryAnswer, result: SendResult): Promise<boolean> {
  const { session, callee } = answer;
  const refusal = o.checkPeer?.(callee);
  if (refusal !== undefined) {
    result.sessionId = session.id;
    Object.assign(result, refusal);
    await o.client.end(session.id, { reason: refusal.code, bytesDirect: 0, bytesRelay: 0 }).catch(() => {}); // already ended: the node has its own record
    return false;
  }
  if (o.transferKey) session.key = await o.transferKey(session, callee);
  return true;
}

/** Builds the SendContext for a granted session, and starts keeping its lease. */
async function openSend(o: SendOptions, answer: QueryAnswer, result: SendResult): Promise<SendContext> {
  const { session } = answer;
  result.sessionId = session.id;
  const log = (message: string) => o.onEvent?.({ type: "log", message });
  const abort = new AbortController();
  const toCallee = answer.status === 202 ? await sealToCallee(session, answer.callee) : undefined;
  const store = toCallee?.store;
  const seal = toCallee?.seal ?? { key: await relayKey(fromBase64url(session.key)), sessionId: session.id };
  const ctx: SendContext = {
    options: o,
    plan: o.plan,
    result,
    session,
    callee: answer.callee,
    store,
    abort,
    live: [],
    resume: undefined,
    sealInstead: false,
    conn: undefined,
    endedReason: undefined,
    awaitingPeerEnd: false,
    peerEnded: undefined,
    log,
    relay: {
      client: o.client,
      plan: o.plan,
      seal,
      signal: abort.signal,
      deadline: () => ctx.lease.expiresAt,
      log,
      progress: (done) => o.onEvent?.({ type: "progress", done, total: o.plan.size }),
    },
    lease: new LeaseKeeper(o.client, session, {
      extended: (expiresAt, n) => {
        result.extensions = n;
        ctx.conn?.setExpiry(expiresAt);
        log(`session extended to ${new Date(expiresAt).toISOString()} (extension ${n})`);
      },
      refused: (message) => log(`extension refused: ${message}`),
      ended: (reason) => sessionEnded(ctx, reason),
    }),
  };
  return ctx;
}

/** The lease watch saw the session end: expected when the callee reports "done" without a channel, else forced. */
function sessionEnded(ctx: SendContext, reason: string): void {
  ctx.endedReason = reason;
  // Without a direct channel the callee's "done" end is its receipt, even if it comes before we wait for it.
  const peerDone =
    (reason === END_DONE || reason === END_DONE_ALREADY_HELD) &&
    ctx.conn === undefined &&
    ctx.result.mode === "live";
  if (!ctx.awaitingPeerEnd && !peerDone) {
    ctx.result.forcedEnd = true;
    ctx.abort.abort(new SendFailure("session_ended", `session ended by the node: ${reason}`));
  }
  ctx.peerEnded?.();
}

/** Dials the callee's direct channel (~5 s); failing that the send falls back to the node, unless it was denied. */
async function connectDirect(ctx: SendContext, callee: PeerInfo): Promise<void> {
  const { options: o, result, session } = ctx;
  const target =
    o.dialOverride ??
    (callee.address !== null && callee.port !== null
      ? { host: callee.address, port: callee.port }
      : undefined);
  ctx.conn = await openDirectChannel(o, { session, callee, target, result, signal: ctx.abort.signal });
  if (result.fallback) {
    ctx.log(
      `direct connection to ${callee.name} failed (${result.fallbackReason}); sending everything through the node, encrypted`,
    );
  }
  void ctx.conn?.closed.then((e) => {
    if (e?.code === "ERR_DIRECT_CLOSED" && e.reason === "ended") {
      result.forcedEnd = true;
      ctx.abort.abort(new SendFailure("session_ended", "the peer ended the session"));
    }
  });
}

/** END on the channel, then the callee's RECEIPT: ok only with the original's SHA-256. */
async function awaitReceipt(ctx: SendContext, conn: DirectConnection): Promise<void> {
  const { plan, result, callee } = ctx;
  await conn.send({ type: "end", size: plan.size, sha256: plan.sha256 });
  const receipt = await waitReceipt(conn, ctx.abort.signal);
  if (!receipt.ok || receipt.sha256 !== plan.sha256) {
    throw new SendFailure(
      receipt.code ?? "receipt_failed",
      `${callee.name} could not verify the recording (${receipt.code ?? "hash mismatch"})`,
    );
  }
  ctx.lease.stop();
  await conn.close("done");
  result.ok = true;
  const sha = `SHA-256 ${plan.sha256.slice(0, 16)}…`;
  if (receipt.held === true) {
    result.alreadyHeld = true;
    result.message = `${callee.name} verified ${plan.name} and already had it (${plan.size} bytes, ${sha}): nothing new was filed`;
  } else result.message = `${callee.name} verified and filed ${plan.name} (${plan.size} bytes, ${sha})`;
}

async function waitReceipt(
  conn: DirectConnection,
  signal: AbortSignal,
): Promise<{ ok: boolean; sha256?: string; code?: string; held?: boolean }> {
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

/** No direct channel, so no RECEIPT: the callee reports the session's end ("done") once it has filed it. */
async function awaitPeerEnd(ctx: SendContext): Promise<void> {
  const { plan, result, callee, abort } = ctx;
  ctx.awaitingPeerEnd = true;
  ctx.log(`uploaded; waiting for ${callee.name} to fetch and verify it from the node`);
  if (ctx.endedReason === undefined) {
    await new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(t);
        resolve();
      };
      ctx.peerEnded = done;
      const t = setTimeout(done, Math.max(0, ctx.lease.expiresAt - Date.now()));
      abort.signal.addEventListener("abort", done, { once: true });
    });
  }
  if (ctx.endedReason !== END_DONE && ctx.endedReason !== END_DONE_ALREADY_HELD) {
    throw new SendFailure(
      "no_confirmation",
      `${callee.name} did not confirm the recording (${ctx.endedReason ?? "lease ran out"})`,
    );
  }
  result.ok = true;
  if (ctx.endedReason === END_DONE_ALREADY_HELD) {
    result.alreadyHeld = true;
    result.message = `${callee.name} fetched ${plan.name} from the node and already had it (${plan.size} bytes): nothing new was filed`;
  } else result.message = `${callee.name} fetched and filed ${plan.name} from the node (${plan.size} bytes)`;
}

/**
 * A failed send: its code (a forced end wins over the broken channel or upload it caused), the channel and
 * the relay uploads closed, and the session's end reported.
 */
async function accountFailure(ctx: SendContext, err: unknown): Promise<void> {
  const { options: o, result, session, abort } = ctx;
  ctx.lease.stop();
  const reason = abort.signal.aborted ? (abort.signal.reason as SendFailure) : undefined;
  const failure = reason instanceof SendFailure ? reason : err;
  result.code = sendFailureCode(failure);
  result.message = (failure as Error).message;
  if (result.code !== "session_ended") {
    // A forced end reaches the caller as a broken channel or upload; the node says what really happened.
    const st = await o.client.session(session.id).catch(() => undefined);
    if (st?.state === "ended" && st.reason !== null && !/^(done|failed)/.test(st.reason)) {
      result.code = "session_ended";
      result.message = `the session was ended by the node (${st.reason}); ${result.message}`;
    }
  }
  if (result.code === "session_ended") result.forcedEnd = true;
  if (ctx.conn) await ctx.conn.abort(result.forcedEnd ? "ended" : "error").catch(() => {});
  // The end report carries what went direct before the failure (the finally would set it too late).
  if (ctx.conn) result.bytesDirect = ctx.conn.bytesSent;
  for (const l of ctx.live) await l.abandon();
  await reportEnd(ctx, result.forcedEnd ? "ended" : `failed: ${result.code}`);
}

/** POST /v1/sessions/:id/end with the bytes each way, so the node's accounting log has every session. */
async function reportEnd(ctx: SendContext, reason: string): Promise<void> {
  const { options: o, session, result } = ctx;
  try {
    await o.client.end(session.id, {
      reason: reason.replace(/[^a-z0-9_:]/g, "_").slice(0, 64),
      bytesDirect: result.bytesDirect,
      ...(result.directPath && result.bytesDirect > 0 ? { directPath: result.directPath } : {}),
      bytesRelay: result.bytesRelay,
    });
  } catch {
    // Already ended (by the peer or an operator): the node has its own record.
  }
}
