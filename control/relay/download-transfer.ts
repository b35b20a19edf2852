/** @module GET /transfers/:id/data: the recipient reads from an offset; a complete file is sliced, a live upload followed. */
import type { Context } from "hono";
import { ApiError } from "../errors/api-error.ts";
import { followFile } from "../spool/spool-download.ts";
import type { SpoolEntry } from "../spool/spool-store.ts";
import type { RelayContext, RelayEnv } from "./relay-context.ts";
import { idOf, offsetParam } from "./relay-request.ts";

/** A live download ends after this long without growth; the client resumes with ?offset=. */
const DEFAULT_FOLLOW_IDLE_MS = 30_000;

/** Stored data is readable only once complete; a live relay from the first byte. */
function checkReadable(e: SpoolEntry, offset: number): void {
  if (e.kind === "store" && !e.complete) {
    throw new ApiError(409, "transfer_incomplete", "Stored data is delivered only once complete", {
      details: { received: e.received },
    });
  }
  if (offset > e.size) throw new ApiError(400, "bad_request", `Offset ${offset} is past the size ${e.size}`);
}

/** Follows the growing file: written-but-not-durable bytes of this process's upload count as available. */
function followUpload(ctx: RelayContext, id: string, offset: number): ReadableStream<Uint8Array> {
  return followFile({
    path: ctx.store.pathOf(id),
    offset,
    source: {
      available: () =>
        Math.max(ctx.uploading.get(id)?.written ?? 0, ctx.store.get(id, ctx.now())?.received ?? 0),
      complete: () => ctx.store.get(id, ctx.now())?.complete ?? false,
      exists: () => ctx.store.get(id, ctx.now()) !== null,
      waitForGrowth: (ms) => ctx.waiters.wait(id, ms),
    },
    idleMs: ctx.deps.followIdleMs ?? DEFAULT_FOLLOW_IDLE_MS,
  });
}

export async function downloadTransfer(ctx: RelayContext, c: Context<RelayEnv>): Promise<Response> {
  const id = idOf(c);
  const e = await ctx.entryFor(id, c.get("deviceId"), "recipient");
  const offset = offsetParam(c);
  checkReadable(e, offset);
  const headers = {
    "content-type": "application/octet-stream",
    "x-pvrlink-size": String(e.size),
    "x-pvrlink-offset": String(offset),
  };
  if (e.complete) {
    return new Response(Bun.file(ctx.store.pathOf(id)).slice(offset, e.size), {
      headers: { ...headers, "content-length": String(e.size - offset) },
    });
  }
  return new Response(followUpload(ctx, id, offset), { headers });
}
