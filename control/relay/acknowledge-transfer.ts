/** @module POST /transfers/:id/ack: the recipient confirms receipt and the node deletes the transfer. */
import type { Context } from "hono";
import type { RelayContext, RelayEnv } from "./relay-context.ts";
import { idOf } from "./relay-request.ts";

/** Deletes file and row; followers are woken so they see the transfer gone. */
export async function acknowledgeTransfer(ctx: RelayContext, c: Context<RelayEnv>): Promise<Response> {
  const id = idOf(c);
  await ctx.entryFor(id, c.get("deviceId"), "recipient");
  ctx.refuseWhileUploading(id, "The sender is still uploading");
  await ctx.store.remove(id);
  ctx.waiters.wake(id);
  ctx.log(`spool: ${id} acknowledged and deleted`);
  return c.json({ id, deleted: true });
}
