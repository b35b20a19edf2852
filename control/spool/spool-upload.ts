/** @module Streams a request body onto the end of a spool file, fsyncing before any byte is counted as received. */
import { open } from "node:fs/promises";
import { HeapPacer } from "../../runtime/heap-pacer.ts";
import { ApiError } from "../errors/api-error.ts";
import type { AppendResult } from "./spool-blobs.ts";

/** Default amount written between durable checkpoints inside one PUT, so a long upload cut off mid-way keeps most of it. */
export const DEFAULT_SYNC_EVERY_BYTES = 4 * 1024 * 1024;

/** Bytes gathered from the body before one write: the relay's records are 1 MiB (firmware/transfer/relay-stream.ts). */
export const WRITE_BYTES = 1024 * 1024;

/** Resolves true once the event loop has turned: I/O already received has been delivered by then. */
function nextTurn(): Promise<boolean> {
  return new Promise((resolve) => setImmediate(() => resolve(true)));
}

/**
 * Appends `body` to the file at `offset`: first truncates anything past offset (bytes written but never
 * acknowledged before a crash), then writes it WRITE_BYTES at a time from one reused buffer (sooner when the body
 * pauses), reading at most one chunk ahead, so memory stays at one buffer however large the body. The body's
 * chunks are handed over: each one that is its ArrayBuffer's whole is freed once copied. Every `syncEvery` bytes, and at the end, it fsyncs and
 * awaits `checkpoint(durableLength)`; `onWritten` reports bytes written but not yet durable (for live followers).
 */
export async function appendStream(o: {
  path: string;
  offset: number;
  limit: number;
  body: ReadableStream<Uint8Array> | null;
  syncEvery?: number;
  checkpoint: (durable: number) => Promise<void>;
  onWritten?: (written: number) => void;
}): Promise<AppendResult> {
  const fh = await open(o.path, o.offset === 0 ? "w" : "r+");
  const syncEvery = o.syncEvery ?? DEFAULT_SYNC_EVERY_BYTES;
  let pos = o.offset;
  let durable = o.offset;
  let error: unknown;
  const sync = async () => {
    if (pos === durable) return;
    await fh.sync();
    durable = pos;
    await o.checkpoint(durable);
  };
  // Request body chunks (64 KiB each from Bun.serve) are gathered into one reused buffer and written a
  // WRITE_BYTES piece at a time: one positioned write per MiB rather than sixteen, and a live follower woken
  // once per piece. A chunk that is its buffer's whole is freed as soon as it is copied, so the collections
  // are paced only by the bytes that are not (HeapPacer).
  const gather = new Uint8Array(Math.min(WRITE_BYTES, Math.max(1, o.limit - o.offset)));
  let fill = 0;
  // The gathered count is cleared first: a write that fails part-way leaves `pos` at what was written.
  const flush = async () => {
    const n = fill;
    if (n === 0) return;
    fill = 0;
    for (let off = 0; off < n; ) {
      const { bytesWritten } = await fh.write(gather, off, n - off, pos);
      off += bytesWritten;
      pos += bytesWritten;
    }
    o.onWritten?.(pos);
  };
  try {
    await fh.truncate(o.offset);
    if (o.body) {
      const pacer = new HeapPacer();
      const reader = o.body.getReader();
      let next = reader.read();
      try {
        for (;;) {
          // Gathered bytes wait for the next chunk only while it is already on its way: when the body pauses
          // (a live sender waiting on its other channel), what came so far is written for the followers first.
          if (fill > 0 && (await Promise.race([next.then(() => false), nextTurn()]))) await flush();
          const { done, value } = await next;
          if (done) break;
          next = reader.read();
          const length = value.byteLength;
          if (length === 0) continue;
          const take = Math.min(o.limit - pos - fill, length);
          for (let at = 0; at < take; ) {
            const k = Math.min(gather.byteLength - fill, take - at);
            gather.set(value.subarray(at, at + k), fill);
            fill += k;
            at += k;
            if (fill === gather.byteLength) await flush();
          }
          // Copied: the chunk is freed now (it reads as empty from here on), or left to the paced collections.
          pacer.release(value);
          if (take < length) {
            error = new ApiError(
              413,
              "size_exceeded",
              `Body runs past the declared size of ${o.limit} bytes`,
              { details: { received: pos + fill } },
            );
            await next.catch(() => {});
            await reader.cancel().catch(() => {});
            break;
          }
          if (pos + fill - durable >= syncEvery) {
            await flush();
            await sync();
          }
        }
      } catch (e) {
        // The client went away mid-body: everything gathered so far is still a correct prefix, keep it.
        error = e;
      } finally {
        // A read still pending (a write failed under it) is cancelled rather than left holding the lock.
        next.catch(() => {});
        await reader.cancel().catch(() => {});
      }
    }
    await flush();
    await sync();
  } finally {
    await fh.close();
  }
  return error === undefined ? { received: durable } : { received: durable, error };
}
