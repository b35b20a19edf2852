/** @module POST /transfers/:id/complete: the sender closes a fully uploaded transfer, optionally checked by sha256. */

import { createHash } from "node:crypto";
import type { Context } from "hono";
import { releaseBuffer } from "../../runtime/release-buffer.ts";
import { ApiError } from "../errors/api-error.ts";
import { ShortBlobError, type SpoolBlobs } from "../spool/spool-blobs.ts";
import type { SpoolEntry } from "../spool/spool-store.ts";
import type { RelayContext, RelayEnv } from "./relay-context.ts";
import { idOf, positiveInt, readJsonObject, transferInfo } from "./relay-request.ts";

const SHA256_HEX = /^[0-9a-f]{64}$/;

/** The body's declared size and optional digest, checked. */
function readCompleteRequest(o: Record<string, unknown>): { size: number; sha: string | undefined } {
  const size = positiveInt(o.size, "size");
  const sha = o.sha256;
  if (sha !== undefined && (typeof sha !== "string" || !SHA256_HEX.test(sha))) {
    throw new ApiError(400, "bad_request", "Invalid field 'sha256': must be 64 lower-case hex digits");
  }
  return { size, sha };
}

/** Completion needs the declared size, no upload running, and every byte durable on the node. */
function checkCompletable(ctx: RelayContext, e: SpoolEntry, size: number): void {
  if (size !== e.size) throw new ApiError(409, "size_mismatch", `Declared size was ${e.size}, not ${size}`);
  ctx.refuseWhileUploading(e.id, "An upload to this transfer is running");
  if (e.received !== e.size) {
    throw new ApiError(409, "transfer_incomplete", `Node holds ${e.received} of ${e.size} bytes`, {
      details: { received: e.received },
    });
  }
}

/** Reads at most this much per step of the digest, so memory stays at one chunk. */
const DIGEST_CHUNK_BYTES = 1024 * 1024;

/** Streams the stored bytes through sha256; bytes missing from the backend are 409 transfer_incomplete. */
async function checkDigest(blobs: SpoolBlobs, e: SpoolEntry, sha: string): Promise<void> {
  const h = createHash("sha256");
  try {
    for (let pos = 0; pos < e.size; ) {
      const bytes = await blobs.read(e, pos, Math.min(pos + DIGEST_CHUNK_BYTES, e.size));
      h.update(bytes);
      pos += bytes.byteLength;
      // Each read is a fresh buffer of our own: freed now, not at the next collection, so checking a whole
      // recording does not lift the node's resident set (the 4 GiB relay peak, docs/benchmarks.md, Transfer).
      releaseBuffer(bytes);
    }
  } catch (err) {
    if (err instanceof ShortBlobError) throw new ApiError(409, "transfer_incomplete", err.message);
    throw err;
  }
  if (h.digest("hex") !== sha) {
    throw new ApiError(409, "checksum_mismatch", "Stored bytes do not match the given sha256");
  }
}

/** Idempotent: completing a complete transfer answers its state again without a second check or trigger. */
export async function completeTransfer(ctx: RelayContext, c: Context<RelayEnv>): Promise<Response> {
  const id = idOf(c);
  const e = await ctx.entryFor(id, c.get("deviceId"), "sender");
  const { size, sha } = readCompleteRequest(await readJsonObject(c));
  checkCompletable(ctx, e, size);
  if (!e.complete) {
    if (sha !== undefined) await checkDigest(ctx.store.blobs, e, sha);
    await ctx.store.markComplete(id, sha ?? null);
    ctx.waiters.wake(id);
    ctx.log(`spool: ${id} complete`);
    // Stored data is announced only now; a live relay was announced when it was created.
    if (e.kind === "store") {
      ctx.deps.notify(e.recipientId, "data", { transfer: id, session: e.sessionId, kind: e.kind });
    }
  }
  const now = await ctx.store.get(id, ctx.now());
  if (!now) throw new ApiError(404, "transfer_not_found", "Transfer was removed meanwhile");
  return c.json(transferInfo(now));
}
