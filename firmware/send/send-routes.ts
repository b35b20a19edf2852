/** @module The routes of a send (seed A): the whole recording sealed through the node, the whole recording direct, or split; and the store for a busy callee. */

import { splitOffsetsAt } from "../../codec/split/split-offsets.ts";
import { ControlApiError } from "../../protocol/control-api-error.ts";
import { HeapPacer } from "../../runtime/heap-pacer.ts";
import type { DirectConnection } from "../direct/direct-connection.ts";
import { openInput, readChunks, SEND_CHUNK_BYTES } from "../files/recording-file.ts";
import { sealToCallee } from "./callee-seal.ts";
import { LiveRelay } from "./live-relay.ts";
import { askHeld } from "./live-resume.ts";
import { patternFor } from "./pattern-for-callee.ts";
import type { PendingFallbackTransfer } from "./pending-fallback-send.ts";
import {
  createRelayTransfer,
  type RelayPart,
  type RelayStreamSpec,
  type RelayTransfer,
  type RelayUploadContext,
  STREAM_OF,
  uploadFromFile,
} from "./relay-upload.ts";
import type { SendContext } from "./send-context.ts";
import { SendFailure } from "./send-failure.ts";
import { splitPass } from "./split-pass.ts";

/** Sends the recording by its route: `secret`, `small` (or `data` without a direct channel) whole through the node, `data` direct, video split. */
export async function sendByRoute(ctx: SendContext): Promise<void> {
  const { plan, conn } = ctx;
  const whole = plan.route === "secret" || plan.route === "small";
  if (plan.route === "data" && conn) return sendWholeDirect(ctx, conn);
  const { rc, sealedWith } = await relayOf(ctx);
  if (whole || plan.route === "data") return sendWholeViaRelay(ctx, rc, sealedWith);
  return sendSplit(ctx, rc, sealedWith);
}

/** The callee is busy or off and the store was accepted: the whole recording, sealed, into the node's spool. */
export async function sendStore(ctx: SendContext, calleeIs: "busy" | "off" = "busy"): Promise<void> {
  const { result, callee } = ctx;
  result.mode = "store";
  ctx.log(`${callee.name} is ${calleeIs}; storing the recording on the node for later pickup (encrypted)`);
  const transfer = await createTransfer(ctx, ctx.relay, { spec: specOf(ctx, "whole"), kind: "store" });
  ctx.options.onStoreTransfer?.({ session: ctx.session, transfer, store: ctx.store });
  await uploadWhole(ctx, ctx.relay, transfer);
  result.ok = true;
  result.message = `stored on the node for ${callee.name}; it will be picked up when ${calleeIs === "off" ? "its recorder is back on" : "its load allows"}`;
}

/** The whole recording sealed through the node (stream 3); the OFFER, if there is a channel, names the transfer. */
async function sendWholeViaRelay(
  ctx: SendContext,
  rc: RelayUploadContext,
  sealedWith: SealedWith | undefined,
): Promise<void> {
  // A resumed send asks first: the transfer is made for what the callee lacks (relay streams are sealed).
  await askHeld(ctx, { kind: "relay", protection: "sealed" });
  const transfer = await createTransfer(ctx, rc, { spec: specOf(ctx, "whole") });
  recordFallback(ctx, sealedWith, [{ ...transfer, part: "whole" }]);
  // The OFFER goes on the channel before any relayed byte, so the callee knows which key the stream is under.
  await sendOffer(ctx, "relay", { relay: { transferId: transfer.id, stream: STREAM_OF.whole } });
  await uploadWhole(ctx, rc, transfer);
}

/** A recording that is neither secret nor video: the whole of it as DATA frames, sealed unless a light mode was asked for. */
async function sendWholeDirect(ctx: SendContext, conn: DirectConnection): Promise<void> {
  const { plan, result, options: o } = ctx;
  const protection = plan.sealDirect ? "sealed" : "seed";
  const held = await askHeld(ctx, { kind: "data", protection });
  await sendOffer(ctx, "data", { protection });
  await using input = await openInput(plan.path);
  result.bytesDirect = await conn.sendStream(
    new HeapPacer().paced(readChunks(input, { reuse: true, chunkBytes: SEND_CHUNK_BYTES, from: held })),
    (done) => o.onEvent?.({ type: "progress", done: held + done, total: plan.size }),
    { clear: !plan.sealDirect },
  );
  if (result.bytesDirect !== plan.size - held) {
    throw new SendFailure("source_changed", `${plan.path} changed while being sent`);
  }
}

/**
 * Video: the protected part sealed through the node while the direct part goes on the channel, in one read of
 * the file (splitPass); without a channel both parts go through the node, the protected one naming its sibling.
 */
async function sendSplit(
  ctx: SendContext,
  rc: RelayUploadContext,
  sealedWith: SealedWith | undefined,
): Promise<void> {
  const { plan, conn, result } = ctx;
  const split = plan.split;
  if (!split) throw new TypeError("Cannot send a split without its plan");
  // The pattern encoder comes first: its header's length is part of the shape a resumed send asks about.
  const pattern = await patternFor(ctx, split);
  const directSize = split.directSize + (pattern?.addedBytes ?? 0);
  // Without a direct channel (the fallback) the direct part goes sealed through the node like the protected one.
  const protection = pattern ? "pattern" : ctx.sealInstead || !conn ? "sealed" : split.protection;
  result.protection = protection;
  // A cbcs chain (H.264 pattern mode) cannot be entered midway by the receiver, which no longer has the
  // ciphertext block before the held point: such a send goes again whole, and the callee drops its partial.
  const held =
    split.pattern?.scheme.kind === "cbcs"
      ? notResumable(ctx, "an H.264 pattern-mode part restarts its CBC chains")
      : await askHeld(ctx, { kind: "split", protection, directSize });
  // In a fallback the direct part's transfer is made first so the protected one can name it as sibling.
  const directSpec = specOf(ctx, "direct");
  const directTransfer = conn ? undefined : await createTransfer(ctx, rc, { spec: directSpec });
  const protectedSpec = specOf(ctx, "protected", directTransfer?.id);
  const protectedTransfer = await createTransfer(ctx, rc, { spec: protectedSpec });
  ctx.live.push(new LiveRelay(rc, protectedTransfer, protectedSpec));
  if (directTransfer) {
    ctx.live.push(new LiveRelay(rc, directTransfer, directSpec));
    recordFallback(ctx, sealedWith, [
      { ...protectedTransfer, part: "protected", siblingTransferId: directTransfer.id },
      { ...directTransfer, part: "direct" },
    ]);
  }
  await sendOffer(ctx, "split", {
    relay: { transferId: protectedTransfer.id, stream: STREAM_OF.protected },
    directSize,
    protection,
  });
  await splitPass(ctx, pattern);
  for (const l of ctx.live) {
    const r = await l.complete();
    if (r.attempts > 1)
      ctx.log(`relay transfer ${l.transfer.id} resumed and completed (${r.attempts} attempts)`);
  }
  const skipped = splitOffsetsAt(split.ranges, plan.size, held);
  result.bytesRelayPayload = split.protectedSize - skipped.protected + (conn ? 0 : split.directSize);
}

/** A resumed send of something that cannot resume: said once, and everything is sent (nothing is asked). */
function notResumable(ctx: SendContext, why: string): number {
  if (ctx.options.resume === true) ctx.log(`cannot resume this send (${why}): sending all of it again`);
  return 0;
}

/**
 * The OFFER (docs/protocol.md section 12), built in this one place: every kind carries the original's SHA-256,
 * its type and its secret flag, and the route adds its own meta. Without a direct channel there is no OFFER.
 */
async function sendOffer(
  ctx: SendContext,
  kind: "relay" | "data" | "split",
  meta: Record<string, unknown> = {},
): Promise<void> {
  const { conn, plan } = ctx;
  if (!conn) return;
  await conn.send({
    type: "offer",
    kind,
    size: plan.size,
    name: plan.name,
    meta: {
      sha256: plan.sha256,
      recordingType: plan.recordingType,
      secret: plan.secret,
      ...meta,
      // A resumed send (live-resume.ts): the callee checks this is what it answered HELD with.
      ...(ctx.resume ? { resume: { held: ctx.resume.held } } : {}),
    },
  });
}

/**
 * The relay side of a live send, once per send. With a direct channel that agreed a forward-secret relay key
 * (crypto/ephemeral-agreement.ts), the streams its OFFERs name are sealed under it: they open only for this
 * connection's two ends, not later for whoever obtains an identity key and the session key. With no channel at
 * all (the fallback, a relay-only resend), every stream of the send is sealed to the callee's identity key with
 * one HPKE enc, as a stored one is (./callee-seal.ts): a later theft of the sender's key opens none of them. A
 * callee without a published key, or a channel without the agreement, keeps the session's key.
 */
async function relayOf(ctx: SendContext): Promise<{ rc: RelayUploadContext; sealedWith?: SealedWith }> {
  if (ctx.conn !== undefined) {
    const key = ctx.conn.relayKey;
    return { rc: key === undefined ? ctx.relay : { ...ctx.relay, seal: { ...ctx.relay.seal, key } } };
  }
  const toCallee = await sealToCallee(ctx.session, ctx.callee);
  if (toCallee === undefined) return { rc: ctx.relay, sealedWith: { key: ctx.session.key, enc: undefined } };
  const sealedWith = { key: toCallee.store.key, enc: toCallee.store.enc };
  return { rc: { ...ctx.relay, seal: toCallee.seal }, sealedWith };
}

/** The raw key (base64url) and HPKE enc a fallback's streams are sealed under: what their re-encoding needs. */
type SealedWith = { key: string; enc: Uint8Array | undefined };

/**
 * A fallback's transfers are made (no direct channel, so no RESUME/HELD later): the CLI records what a
 * `send --resume` in another process needs to finish their uploads at the node's offsets.
 */
function recordFallback(
  ctx: SendContext,
  sealedWith: SealedWith | undefined,
  transfers: PendingFallbackTransfer[],
): void {
  if (ctx.conn !== undefined || sealedWith === undefined) return;
  ctx.options.onFallbackTransfers?.({ session: ctx.session, ...sealedWith, transfers });
}

function specOf(ctx: SendContext, part: RelayPart, siblingTransferId?: string): RelayStreamSpec {
  const from = ctx.resume?.held ?? 0;
  return { part, sender: ctx.options.deviceName, siblingTransferId, ...(from > 0 ? { from } : {}) };
}

/** A node transfer for one relay stream of this send, listed in the result; a refusal keeps the node's code. */
async function createTransfer(
  ctx: SendContext,
  rc: RelayUploadContext,
  o: { spec: RelayStreamSpec; kind?: "relay" | "store" },
): Promise<RelayTransfer> {
  try {
    const transfer = await createRelayTransfer(rc, o.spec, o.kind ?? "relay");
    ctx.result.transfers.push(transfer.id);
    return transfer;
  } catch (err) {
    if (err instanceof ControlApiError)
      throw new SendFailure(err.code, `the node refused the relay transfer: ${err.message}`);
    throw err;
  }
}

/** Uploads the whole recording into a transfer made for it, and counts it. */
async function uploadWhole(ctx: SendContext, rc: RelayUploadContext, transfer: RelayTransfer): Promise<void> {
  await uploadFromFile(rc, transfer, specOf(ctx, "whole"));
  ctx.result.bytesRelay += transfer.size;
  ctx.result.bytesRelayPayload = ctx.plan.size - (ctx.resume?.held ?? 0);
}
