/** @module Streams a spool file from an offset, following it while a live relay upload is still growing it. */
import { open } from "node:fs/promises";
import { HeapPacer } from "../../runtime/heap-pacer.ts";

/** Read size per pull: large enough for throughput, small enough that memory per download stays bounded. */
export const DOWNLOAD_CHUNK_BYTES = 256 * 1024;

/** What the reader needs to know about the growing file; looked up afresh on every pull. */
export interface GrowthSource {
  /** Bytes the reader may deliver now (written to the file by the upload in progress, or durable). */
  available(): number;
  /** True once the transfer is complete (then available() is the final size). */
  complete(): boolean;
  /** False once the transfer was acknowledged, expired or removed: the stream then errors. */
  exists(): boolean;
  /** Resolves at the next progress, or after `ms`. */
  waitForGrowth(ms: number): Promise<void>;
}

/** Where a download reads from and how long it waits for a live upload before it ends. */
export interface FollowFileOptions {
  path: string;
  offset: number;
  source: GrowthSource;
  /** The stream ends after this long without growth; the client resumes with ?offset=. */
  idleMs: number;
}

/**
 * A ReadableStream of the file from `offset`. It ends when the transfer is complete and fully read, or when
 * nothing has grown for `idleMs` (the client resumes with ?offset=), and errors if the entry disappears.
 */
export function followFile({
  path,
  offset,
  source: src,
  idleMs,
}: FollowFileOptions): ReadableStream<Uint8Array> {
  let fh: Awaited<ReturnType<typeof open>> | undefined;
  let pos = offset;
  // Each pull reads into a fresh buffer that the response hands on and drops: collected at a steady pace.
  const pacer = new HeapPacer();
  const close = async () => {
    const h = fh;
    fh = undefined;
    await h?.close().catch(() => {});
  };
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        try {
          let idleSince = Date.now();
          for (;;) {
            if (!src.exists()) throw new Error("Transfer was removed while it was being downloaded");
            const avail = src.available();
            if (pos < avail) {
              // Opened only once bytes exist: a live follower may arrive before the upload created the file.
              fh ??= await open(path, "r");
              const want = Math.min(DOWNLOAD_CHUNK_BYTES, avail - pos);
              const buf = new Uint8Array(want);
              const { bytesRead } = await fh.read(buf, 0, want, pos);
              if (bytesRead === 0) throw new Error("Spool file is shorter than its recorded length");
              pos += bytesRead;
              pacer.moved(bytesRead);
              controller.enqueue(buf.subarray(0, bytesRead));
              return;
            }
            if (src.complete()) {
              await close();
              controller.close();
              return;
            }
            const left = idleMs - (Date.now() - idleSince);
            if (left <= 0) {
              await close();
              controller.close();
              return;
            }
            const before = avail;
            await src.waitForGrowth(left);
            if (src.available() > before) idleSince = Date.now();
          }
        } catch (e) {
          await close();
          controller.error(e);
        }
      },
      async cancel() {
        await close();
      },
    },
    { highWaterMark: 0 },
  );
}
