/** @module The caller's side of a resumed live send: asks the callee (RESUME) how much of the recording it kept, before the OFFER. */
import type { ResumeMessage } from "../direct/direct-message.ts";
import type { SendContext } from "./send-context.ts";
import { SendFailure } from "./send-failure.ts";

/** What a resumed send is of, beyond the recording: the callee keeps a partial only for exactly this shape. */
export type ResumeShape = Pick<ResumeMessage, "kind" | "protection" | "directSize">;

/**
 * With `send --resume` and a callee that said it answers RESUME (ACCEPTED `resume: true`), asks how many bytes
 * of the original it holds for this caller, recording and shape (HELD), and records it in the context: the OFFER
 * then says it resumes from there and every stream carries only the rest. The callee is the one that knows
 * what it has on disk (fsynced), so the caller keeps no record of its own. Without --resume, without a direct
 * channel (nothing to ask on) or with an older callee, nothing is asked and the whole recording is sent.
 */
export async function askHeld(ctx: SendContext, shape: ResumeShape): Promise<number> {
  const { conn, plan, options: o } = ctx;
  if (o.resume !== true) return 0;
  if (conn === undefined) {
    ctx.log("no direct channel to ask what the receiver kept: sending all of it again through the node");
    return 0;
  }
  if (!conn.peerResumes) {
    ctx.log(`${ctx.callee.name} runs an older pvrlink that cannot resume: sending all of it again`);
    return 0;
  }
  await conn.send({
    type: "resume",
    sha256: plan.sha256,
    size: plan.size,
    kind: shape.kind,
    protection: shape.protection,
    ...(shape.directSize !== undefined ? { directSize: shape.directSize } : {}),
  });
  const held = await waitHeld(ctx);
  if (held > plan.size)
    throw new SendFailure("protocol_error", `${ctx.callee.name} says it holds ${held} of ${plan.size} bytes`);
  ctx.resume = { held };
  ctx.result.resumedFrom = held;
  ctx.log(
    held > 0
      ? `${ctx.callee.name} kept ${held} of ${plan.size} bytes of the interrupted send: sending only the rest`
      : `${ctx.callee.name} kept nothing of an interrupted send of it: sending all of it`,
  );
  return held;
}

async function waitHeld(ctx: SendContext): Promise<number> {
  const { conn, abort } = ctx;
  if (conn === undefined) return 0;
  const aborted = new Promise<never>((_, reject) => {
    if (abort.signal.aborted) reject(abort.signal.reason);
    abort.signal.addEventListener("abort", () => reject(abort.signal.reason), { once: true });
  });
  aborted.catch(() => {});
  const m = await Promise.race([conn.receive(), aborted]);
  if (m === undefined) throw new SendFailure("protocol_error", "the peer closed the channel instead of HELD");
  if (m.type !== "held") throw new SendFailure("protocol_error", `the peer answered RESUME with ${m.type}`);
  return m.held;
}
