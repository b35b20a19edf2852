/** @module Streams a request body onto the end of a spool file, fsyncing before any byte is counted as received. */
import { open } from "node:fs/promises";
import { HeapPacer } from "../../runtime/heap-pacer.ts";
import { ApiError } from "../errors/api-error.ts";
import type { AppendResult } from "./spool-blobs.ts";

/** Default amount written between durable checkpoints inside one PUT, so a long upload cut off mid-way keeps most of it. */
export const DEFAULT_SYNC_EVERY_BYTES = 4 * 1024 * 1024;

/**
 * Appends `body` to the file at `offset`: first truncates anything past offset (bytes written but never
 * acknowledged before a crash), then writes chunk by chunk, awaiting each write before reading the next chunk,
 * so memory stays at one chunk however large the body. Every `syncEvery` bytes, and at the end, it fsyncs and
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
  try {
    await fh.truncate(o.offset);
    if (o.body) {
      // Every chunk of the body is a fresh buffer, dropped once written: collected at a steady pace so a
      // long upload does not grow the node's heap (issue 14: the node stays at or below 96 MiB while relaying).
      const pacer = new HeapPacer();
      const reader = o.body.getReader();
      try {
        for (;;) {
          const { done, value } = await reader.read();
          if (done) break;
          if (value.byteLength === 0) continue;
          pacer.moved(value.byteLength);
          const room = o.limit - pos;
          const take = Math.min(room, value.byteLength);
          if (take > 0) {
            let off = 0;
            while (off < take) {
              const { bytesWritten } = await fh.write(value, off, take - off, pos);
              off += bytesWritten;
              pos += bytesWritten;
            }
            o.onWritten?.(pos);
          }
          if (take < value.byteLength) {
            error = new ApiError(
              413,
              "size_exceeded",
              `Body runs past the declared size of ${o.limit} bytes`,
              { details: { received: pos } },
            );
            await reader.cancel().catch(() => {});
            break;
          }
          if (pos - durable >= syncEvery) await sync();
        }
      } catch (e) {
        // The client went away mid-body: everything written so far is still a correct prefix, keep it.
        error = e;
      } finally {
        reader.releaseLock();
      }
    }
    await sync();
  } finally {
    await fh.close();
  }
  return error === undefined ? { received: durable } : { received: durable, error };
}
