/** @module DELETE /transfers/:id: the sender gives a transfer up, and its reservation is freed at once. */
import type { Context } from "hono";
import type { RelayContext, RelayEnv } from "./relay-context.ts";
import { idOf } from "./relay-request.ts";

/** Issue 21 item 11: only the transfer's sender may cancel it; followers of a live download are woken. */
export async function cancelTransfer(ctx: RelayContext, c: Context<RelayEnv>): Promise<Response> {
  const id = idOf(c);
  await ctx.entryFor(id, c.get("deviceId"), "sender");
  await ctx.store.remove(id);
  ctx.waiters.wake(id);
  ctx.log(`spool: ${id} cancelled by its sender`);
  return c.body(null, 204);
}
