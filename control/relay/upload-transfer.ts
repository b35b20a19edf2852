/** @module PUT /transfers/:id/data: the sender streams bytes from the node's offset, each checkpoint durable before counted. */
import type { Context } from "hono";
import { ApiError } from "../errors/api-error.ts";
import type { AppendResult } from "../spool/spool-blobs.ts";
import { noSpaceError } from "../spool/spool-capacity.ts";
import type { SpoolEntry } from "../spool/spool-store.ts";
import type { RelayContext, RelayEnv } from "./relay-context.ts";
import { idOf, offsetParam } from "./relay-request.ts";

/** An upload resumes exactly where the node's durable bytes end, one upload per transfer at a time. */
function checkResumable(ctx: RelayContext, e: SpoolEntry, offset: number): void {
  if (e.complete) {
    throw new ApiError(409, "transfer_complete", "Transfer is already complete", {
      details: { received: e.received },
    });
  }
  ctx.refuseWhileUploading(e.id, "Another upload to this transfer is running");
  if (offset !== e.received) {
    throw new ApiError(409, "offset_mismatch", `Node holds ${e.received} bytes; resume at that offset`, {
      details: { received: e.received },
    });
  }
}

/**
 * Appends the body while the transfer is marked uploading, so live followers see written bytes and expiry spares
 * it; each durable checkpoint is recorded (only if the index is still where this upload began: another node
 * may not have advanced it meanwhile) and accounted to the session.
 */
async function appendBody(
  ctx: RelayContext,
  c: Context<RelayEnv>,
  { e, offset }: { e: SpoolEntry; offset: number },
): Promise<AppendResult> {
  const id = e.id;
  const live = { written: offset };
  ctx.uploading.set(id, live);
  try {
    let counted = offset;
    return await ctx.store.blobs.append({
      entry: e,
      offset,
      body: c.req.raw.body,
      checkpoint: async (durable, part) => {
        await ctx.store.advance(id, { from: counted, received: durable, ...(part ? { part } : {}) });
        ctx.deps.onBytes(e.sessionId, durable - counted);
        counted = durable;
        live.written = Math.max(live.written, durable);
        ctx.waiters.wake(id);
      },
      onWritten: (written) => {
        live.written = written;
        ctx.waiters.wake(id);
      },
    });
  } finally {
    ctx.uploading.delete(id);
    ctx.waiters.wake(id);
  }
}

/** Answers with the durable length; a body cut short is logged and answered, so the sender resumes from it. */
export async function uploadTransfer(ctx: RelayContext, c: Context<RelayEnv>): Promise<Response> {
  const id = idOf(c);
  const e = await ctx.entryFor(id, c.get("deviceId"), "sender");
  const offset = offsetParam(c);
  checkResumable(ctx, e, offset);
  ctx.capacity?.admitWrite(e);
  const result = await appendBody(ctx, c, { e, offset });
  if (result.error instanceof ApiError) throw result.error;
  const full = noSpaceError(result.error, result.received);
  if (full) throw full;
  if (result.error !== undefined) {
    ctx.log(`spool: upload to ${id} ended early at ${result.received}: ${String(result.error)}`);
  }
  return c.json({ received: result.received });
}
