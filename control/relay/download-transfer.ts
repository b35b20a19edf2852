/** @module GET /transfers/:id/data: the recipient reads from an offset; a complete transfer is served whole, a live upload followed. */
import type { Context } from "hono";
import { ApiError } from "../errors/api-error.ts";
import { ShortBlobError } from "../spool/spool-blobs.ts";
import { followTransfer } from "../spool/spool-download.ts";
import type { SpoolEntry } from "../spool/spool-store.ts";
import type { RelayContext, RelayEnv } from "./relay-context.ts";
import { idOf, offsetParam } from "./relay-request.ts";

/** A live download ends after this long without growth; the client resumes with ?offset=. */
const DEFAULT_FOLLOW_IDLE_MS = 30_000;
/**
 * A follower re-reads the index at least this often: the upload may run on another node (S3 spool), whose
 * progress wakes no waiter here.
 */
const DEFAULT_FOLLOW_POLL_MS = 500;

/** Stored data is readable only once complete; a live relay from the first byte. */
function checkReadable(e: SpoolEntry, offset: number): void {
  if (e.kind === "store" && !e.complete) {
    throw new ApiError(409, "transfer_incomplete", "Stored data is delivered only once complete", {
      details: { received: e.received },
    });
  }
  if (offset > e.size) throw new ApiError(400, "bad_request", `Offset ${offset} is past the size ${e.size}`);
}

/** Follows the growing transfer: bytes this process's upload has written but not yet made durable count too. */
function followUpload(ctx: RelayContext, e: SpoolEntry, offset: number): ReadableStream<Uint8Array> {
  const id = e.id;
  const pollMs = ctx.deps.followPollMs ?? DEFAULT_FOLLOW_POLL_MS;
  return followTransfer({
    offset,
    source: {
      state: async () => {
        const now = await ctx.store.get(id, ctx.now());
        return {
          available: Math.max(ctx.uploading.get(id)?.written ?? 0, now?.received ?? 0),
          complete: now?.complete ?? false,
          exists: now !== null,
        };
      },
      waitForGrowth: (ms) => ctx.waiters.wait(id, Math.min(ms, pollMs)),
      read: (start, end) => ctx.store.blobs.read(e, start, end),
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
    try {
      await ctx.store.blobs.verify?.(e);
    } catch (err) {
      if (!(err instanceof ShortBlobError)) throw err;
      ctx.log(`spool: ${err.message}`);
      throw new ApiError(409, "transfer_incomplete", err.message, {
        details: { received: (await ctx.store.get(id, ctx.now()))?.received ?? 0 },
      });
    }
    return new Response(ctx.store.blobs.body(e, offset), {
      headers: { ...headers, "content-length": String(e.size - offset) },
    });
  }
  return new Response(followUpload(ctx, e, offset), { headers });
}
