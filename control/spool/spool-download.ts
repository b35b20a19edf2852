/** @module Streams a transfer's bytes from an offset, following it while a live relay upload is still growing it. */
import { HeapPacer } from "../../runtime/heap-pacer.ts";
import { LentChunk } from "../../runtime/lent-chunk.ts";

/** Read size per pull: large enough for throughput, small enough that memory per download stays bounded. */
export const DOWNLOAD_CHUNK_BYTES = 256 * 1024;

/** The growing transfer as the reader sees it; looked up afresh on every pull (the index may be on another node's writes). */
export interface GrowthState {
  /** Bytes the reader may deliver now (written by an upload in this process, or durable). */
  available: number;
  /** True once the transfer is complete (then available is the final size). */
  complete: boolean;
  /** False once the transfer was acknowledged, expired or removed: the stream then errors. */
  exists: boolean;
}

export interface GrowthSource {
  state(): Promise<GrowthState>;
  /** Resolves at the next progress, or after `ms`. */
  waitForGrowth(ms: number): Promise<void>;
  /**
   * Bytes [start, end) of the transfer: at least one, at most end - start (SpoolBlobs.read), in a buffer nobody
   * else holds (the download frees it once the response has taken it).
   */
  read(start: number, end: number): Promise<Uint8Array>;
}

/** Where a download reads from and how long it waits for a live upload before it ends. */
export interface FollowOptions {
  offset: number;
  source: GrowthSource;
  /** The stream ends after this long without growth; the client resumes with ?offset=. */
  idleMs: number;
}

/**
 * A ReadableStream of the transfer from `offset`. It ends when the transfer is complete and fully read, or when
 * nothing has grown for `idleMs` (the client resumes with ?offset=), and errors if the entry disappears or its
 * stored bytes are shorter than recorded.
 */
export function followTransfer({ offset, source: src, idleMs }: FollowOptions): ReadableStream<Uint8Array> {
  let pos = offset;
  // Each pull reads into a fresh buffer (SpoolBlobs.read) that only the response reads. Bun's server copies a
  // chunk into its own socket buffer as it takes it, and pulls again only after that, so the chunk lent before
  // is freed by hand at the next pull; one it cannot free (a short read's partial view) counts towards a
  // collection at a steady pace.
  const lent = new LentChunk(new HeapPacer());
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        lent.release();
        try {
          let idleSince = Date.now();
          for (;;) {
            const s = await src.state();
            if (!s.exists) throw new Error("Transfer was removed while it was being downloaded");
            if (pos < s.available) {
              const bytes = await src.read(pos, Math.min(pos + DOWNLOAD_CHUNK_BYTES, s.available));
              pos += bytes.byteLength;
              lent.lend(bytes);
              controller.enqueue(bytes);
              return;
            }
            if (s.complete) {
              controller.close();
              return;
            }
            const left = idleMs - (Date.now() - idleSince);
            if (left <= 0) {
              controller.close();
              return;
            }
            await src.waitForGrowth(left);
            if ((await src.state()).available > s.available) idleSince = Date.now();
          }
        } catch (e) {
          controller.error(e);
        }
      },
    },
    { highWaterMark: 0 },
  );
}
