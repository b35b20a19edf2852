/** @module The spool on S3-compatible storage (Bun's S3 client): each acknowledged part of a transfer is its own object, listed in the store, so any node continues or serves it. */
import type { S3Client } from "bun";
import { randomToken } from "../../crypto/random-token.ts";
import { HeapPacer } from "../../runtime/heap-pacer.ts";
import { ApiError } from "../errors/api-error.ts";
import { openS3Spool, type S3SpoolTarget } from "./s3-spool-client.ts";
import {
  type AppendOptions,
  type AppendResult,
  type ReconcileIndex,
  ShortBlobError,
  type SpoolBlobs,
  type StoredPart,
} from "./spool-blobs.ts";
import type { SpoolEntry } from "./spool-entry.ts";

/**
 * Why parts are objects and not the parts of one S3 multipart upload: Bun's client runs a multipart upload
 * inside one writer and exposes neither its UploadId nor UploadPart, so no other process could continue it;
 * the parts of an unfinished multipart upload cannot be read, so a callee following a live relay would see
 * nothing until the end; and every part but the last must be at least 5 MiB, so a body cut short could not be
 * acknowledged up to where it ended. An object per part has none of these limits. Each part is written with
 * one PutObject (Bun's write() of an in-memory buffer, 12 MiB included, is a single PUT: checked against
 * s3rver's request log), so the node never leaves a multipart upload unfinished; up to S3's 5 GiB per PUT.
 */
export interface S3SpoolOptions extends S3SpoolTarget {
  /** Bytes buffered per part before it is stored and acknowledged (memory per running upload). */
  partBytes: number;
  /** Objects nobody lists this long after their last write are orphans (a node died between write and commit). */
  orphanGraceMs?: number;
}

/** What the backend needs from the index: the parts it listed, and the way to lower a transfer. */
export interface PartIndex extends ReconcileIndex {
  parts(id: string): Promise<StoredPart[]>;
}

/** A part object's name under the transfer's prefix: zero-padded part number, then a token per write. */
const PART_NAME = /^(tr_[A-Za-z0-9_-]{22})\/(\d{6})-[A-Za-z0-9_-]+$/;
const DEFAULT_ORPHAN_GRACE_MS = 10 * 60_000;
const READ_CHUNK_BYTES = 256 * 1024;
/** Part lists kept per transfer for reads; a download asks for one per pull otherwise. */
const MAX_CACHED_PART_LISTS = 256;

function errorCode(err: unknown): string {
  return String((err as { code?: unknown } | null)?.code ?? (err as Error | null)?.name ?? "");
}

export class S3Blobs implements SpoolBlobs {
  readonly kind = "s3" as const;
  readonly location: string;
  readonly #client: S3Client;
  readonly #prefix: string;
  readonly #index: PartIndex;
  readonly #partBytes: number;
  readonly #grace: number;
  readonly #partLists = new Map<string, StoredPart[]>();

  constructor(o: S3SpoolOptions, index: PartIndex) {
    const { client, prefix, location } = openS3Spool(o);
    this.location = location;
    this.#client = client;
    this.#prefix = prefix;
    this.#index = index;
    this.#partBytes = o.partBytes;
    this.#grace = o.orphanGraceMs ?? DEFAULT_ORPHAN_GRACE_MS;
  }

  /**
   * Collects the body into parts of partBytes (the last one shorter); each is written as an object, and only
   * once S3 has answered for it does the index record the part and advance `received`. A body cut short still
   * stores what arrived as a shorter part, so the sender resumes where its bytes ended, on any node.
   */
  async append(o: AppendOptions): Promise<AppendResult> {
    const { entry: e } = o;
    const known = await this.#index.parts(e.id);
    let next = (known.at(-1)?.part ?? 0) + 1;
    let durable = o.offset;
    let buf = new Uint8Array(Math.min(this.#partBytes, e.size - durable));
    let filled = 0;
    let error: unknown;
    let storeFailed = false;
    const store = async () => {
      if (filled === 0) return;
      const part: StoredPart = {
        part: next,
        start: durable,
        size: filled,
        objectKey: `${this.#prefix}${e.id}/${String(next).padStart(6, "0")}-${randomToken(8)}`,
      };
      try {
        await this.#client.write(part.objectKey, buf.subarray(0, filled));
      } catch (err) {
        storeFailed = true;
        throw new ApiError(
          503,
          "spool_unavailable",
          `Cannot store part ${next}: ${errorCode(err) || String(err)}`,
          {
            details: { received: durable },
          },
        );
      }
      try {
        await o.checkpoint(durable + filled, part);
      } catch (err) {
        // Another node advanced the transfer first, or it went: this object is nobody's.
        storeFailed = true;
        await this.#client.delete(part.objectKey).catch(() => {});
        throw err;
      }
      this.#partLists.delete(e.id);
      durable += filled;
      next++;
      filled = 0;
      buf = new Uint8Array(Math.min(this.#partBytes, e.size - durable));
    };
    if (o.body) {
      const pacer = new HeapPacer();
      const reader = o.body.getReader();
      try {
        for (;;) {
          const { done, value } = await reader.read();
          if (done) break;
          pacer.moved(value.byteLength);
          let off = 0;
          while (off < value.byteLength) {
            if (durable + filled >= e.size) {
              error = new ApiError(
                413,
                "size_exceeded",
                `Body runs past the declared size of ${e.size} bytes`,
                {
                  details: { received: durable + filled },
                },
              );
              break;
            }
            const take = Math.min(buf.byteLength - filled, value.byteLength - off);
            buf.set(value.subarray(off, off + take), filled);
            filled += take;
            off += take;
            if (filled === buf.byteLength) await store();
          }
          if (error !== undefined) {
            await reader.cancel().catch(() => {});
            break;
          }
        }
      } catch (err) {
        // The client went away mid-body (or a part could not be stored): what arrived is still a correct prefix.
        error = err;
      } finally {
        reader.releaseLock();
      }
    }
    if (!storeFailed) {
      try {
        await store();
      } catch (err) {
        error = err;
      }
    }
    return error === undefined ? { received: durable } : { received: durable, error };
  }

  async read(e: SpoolEntry, start: number, end: number): Promise<Uint8Array> {
    const p = await this.#partAt(e.id, start);
    if (!p) return this.#short(e, start, `no stored part holds byte ${start}`);
    const from = start - p.start;
    const to = Math.min(end, p.start + p.size) - p.start;
    let bytes: Uint8Array;
    try {
      bytes = new Uint8Array(await this.#client.file(p.objectKey).slice(from, to).arrayBuffer());
    } catch (err) {
      const code = errorCode(err);
      if (code === "NoSuchKey" || code === "InvalidRange" || code === "ERR_S3_INVALID_RANGE")
        return this.#short(e, p.start, `part ${p.part} is missing or shorter than recorded`);
      throw err;
    }
    if (bytes.byteLength < to - from)
      return this.#short(e, p.start, `part ${p.part} holds fewer bytes than recorded`);
    return bytes;
  }

  body(e: SpoolEntry, offset: number): ReadableStream<Uint8Array> {
    let pos = offset;
    return new ReadableStream<Uint8Array>(
      {
        pull: async (controller) => {
          if (pos >= e.size) return controller.close();
          try {
            const bytes = await this.read(e, pos, Math.min(pos + READ_CHUNK_BYTES, e.size));
            pos += bytes.byteLength;
            controller.enqueue(bytes);
          } catch (err) {
            controller.error(err);
          }
        },
      },
      { highWaterMark: 0 },
    );
  }

  /**
   * One LIST of the transfer's objects before a download starts: a part missing or shorter than recorded
   * lowers the transfer to the part's start and throws ShortBlobError, before any byte is answered.
   */
  async verify(e: SpoolEntry): Promise<void> {
    const sizes = new Map<string, number>();
    for await (const o of this.#objects(`${this.#prefix}${e.id}/`)) sizes.set(o.key, o.size);
    for (const p of await this.#index.parts(e.id)) {
      if ((sizes.get(p.objectKey) ?? -1) < p.size) {
        await this.#short(e, p.start, `part ${p.part} is missing or shorter than recorded`);
      }
    }
  }

  async remove(id: string): Promise<void> {
    this.#partLists.delete(id);
    for await (const o of this.#objects(`${this.#prefix}${id}/`)) await this.#client.delete(o.key);
  }

  /**
   * One LIST of the prefix: objects of no row (older than the grace, so a write another node is about to commit
   * is spared) are deleted; a transfer whose part is missing or short is lowered to that part's start.
   */
  async reconcile(index: ReconcileIndex): Promise<{ orphans: number; shortened: number }> {
    const rows = new Map((await index.held()).map((e) => [e.id, e]));
    const known = await index.ids();
    const sizes = new Map<string, number>();
    let orphans = 0;
    let shortened = 0;
    const cutoff = Date.now() - this.#grace;
    for await (const o of this.#objects(this.#prefix)) {
      const m = PART_NAME.exec(o.key.slice(this.#prefix.length));
      if (!m) continue; // not ours: never deleted
      sizes.set(o.key, o.size);
      if (!known.has(m[1]!) && o.modified < cutoff) {
        await this.#client.delete(o.key);
        orphans++;
      }
    }
    for (const e of rows.values()) {
      const bad = (await this.#index.parts(e.id)).find((p) => (sizes.get(p.objectKey) ?? -1) < p.size);
      if (bad) {
        await index.lowerReceived(e.id, bad.start);
        shortened++;
      }
    }
    return { orphans, shortened };
  }

  freeBytes(): number {
    return Number.POSITIVE_INFINITY;
  }

  /** Marks e incomplete at `at` (the damaged part's start) and throws the read's error. */
  async #short(e: SpoolEntry, at: number, why: string): Promise<never> {
    this.#partLists.delete(e.id);
    await this.#index.lowerReceived(e.id, at);
    throw new ShortBlobError(`Cannot read ${e.id}: ${why}; stored bytes end at ${at} (marked incomplete)`);
  }

  async #partAt(id: string, at: number): Promise<StoredPart | undefined> {
    const find = (ps: StoredPart[] | undefined) => ps?.find((p) => at >= p.start && at < p.start + p.size);
    const hit = find(this.#partLists.get(id));
    if (hit) return hit;
    const fresh = await this.#index.parts(id);
    if (this.#partLists.size >= MAX_CACHED_PART_LISTS) this.#partLists.clear();
    this.#partLists.set(id, fresh);
    return find(fresh);
  }

  async *#objects(prefix: string): AsyncGenerator<{ key: string; size: number; modified: number }> {
    let token: string | undefined;
    do {
      const page = await this.#client.list({ prefix, ...(token ? { continuationToken: token } : {}) });
      for (const c of page.contents ?? []) {
        yield {
          key: c.key,
          size: c.size ?? 0,
          modified: c.lastModified ? Date.parse(c.lastModified) : 0,
        };
      }
      token = page.isTruncated ? page.nextContinuationToken : undefined;
    } while (token);
  }
}
