/** @module GET /inbox: the complete stored transfers waiting for the calling device, oldest first. */
import type { Context } from "hono";
import type { RelayContext, RelayEnv } from "./relay-context.ts";

/** Each entry names its sender (id and, when the node knows it, name) so the recipient can choose. */
export async function listInbox(ctx: RelayContext, c: Context<RelayEnv>): Promise<Response> {
  const entries = await ctx.store.inbox(c.get("deviceId"), ctx.now());
  const names = await Promise.all(entries.map((e) => ctx.deps.deviceName?.(e.senderId) ?? null));
  const transfers = entries.map((e, i) => ({
    id: e.id,
    session: e.sessionId,
    sender: { id: e.senderId, name: names[i] ?? null },
    size: e.size,
    label: e.label,
    sha256: e.sha256,
    createdAt: e.createdAt,
    expiresAt: e.expiresAt,
  }));
  return c.json(transfers);
}
