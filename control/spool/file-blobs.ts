/** @module The default spool backend: one file per transfer in a local directory, fsynced before a byte counts. */
import { closeSync, fsyncSync, openSync, readdirSync, rmSync, statSync } from "node:fs";
import { open } from "node:fs/promises";
import { hostname } from "node:os";
import { join, resolve } from "node:path";
import {
  type AppendOptions,
  type AppendResult,
  type ReconcileIndex,
  ShortBlobError,
  type SpoolBlobs,
} from "./spool-blobs.ts";
import { statfsFreeBytes } from "./spool-capacity.ts";
import type { SpoolEntry } from "./spool-entry.ts";
import { appendStream } from "./spool-upload.ts";

/** File name pattern of spool files; only files matching it are ever deleted from the spool directory. */
const FILE_PATTERN = /^tr_[A-Za-z0-9_-]{22}\.part$/;

/**
 * Invariant: a row's `received` never exceeds the fsynced length of its file. In a cluster sharing one store,
 * each node's files are its own: rows carry this spool's location (host and directory), and reconciliation
 * judges only those, so a node never lowers a transfer whose file another node holds.
 */
export class FileBlobs implements SpoolBlobs {
  readonly kind = "file" as const;
  readonly dir: string;
  readonly location: string;
  readonly #syncEvery: number | undefined;

  /** o.nodeName: what names this node in the location (config nodeId); default the host name. */
  constructor(dir: string, o: { syncEveryBytes?: number | undefined; nodeName?: string | null } = {}) {
    this.dir = dir;
    this.location = `file:${o.nodeName ?? hostname()}:${resolve(dir)}`;
    this.#syncEvery = o.syncEveryBytes;
  }

  pathOf(id: string): string {
    return join(this.dir, `${id}.part`);
  }

  async append(o: AppendOptions): Promise<AppendResult> {
    const result = await appendStream({
      path: this.pathOf(o.entry.id),
      offset: o.offset,
      limit: o.entry.size,
      body: o.body,
      ...(this.#syncEvery !== undefined ? { syncEvery: this.#syncEvery } : {}),
      checkpoint: (durable) => o.checkpoint(durable),
      ...(o.onWritten ? { onWritten: o.onWritten } : {}),
    });
    if (o.offset === 0) this.#syncDirectory();
    return result;
  }

  async read(e: SpoolEntry, start: number, end: number): Promise<Uint8Array> {
    const fh = await open(this.pathOf(e.id), "r");
    try {
      const buf = new Uint8Array(end - start);
      const { bytesRead } = await fh.read(buf, 0, buf.byteLength, start);
      if (bytesRead === 0) {
        throw new ShortBlobError(`Cannot read ${e.id} at ${start}: the spool file is shorter than recorded`);
      }
      return buf.subarray(0, bytesRead);
    } finally {
      await fh.close();
    }
  }

  body(e: SpoolEntry, offset: number): Blob {
    return Bun.file(this.pathOf(e.id)).slice(offset, e.size);
  }

  async remove(id: string): Promise<void> {
    rmSync(this.pathOf(id), { force: true });
  }

  /**
   * Brings index and files into agreement after a restart (or a kill -9): deletes spool files with no row, and
   * lowers `received` to what the file really holds (it can only be shorter after a power loss).
   */
  async reconcile(index: ReconcileIndex): Promise<{ orphans: number; shortened: number }> {
    // An orphan is a file no row names at all: a row held elsewhere (this node's name changed, say) keeps its file.
    const rows = await index.held();
    const ids = await index.ids();
    let orphans = 0;
    let shortened = 0;
    for (const name of readdirSync(this.dir)) {
      if (!FILE_PATTERN.test(name) || ids.has(name.slice(0, -".part".length))) continue;
      rmSync(join(this.dir, name), { force: true });
      orphans++;
    }
    for (const r of rows) {
      if (r.received === 0) continue;
      let len = 0;
      try {
        len = statSync(this.pathOf(r.id)).size;
      } catch {
        len = 0;
      }
      if (len < r.received) {
        await index.lowerReceived(r.id, len);
        shortened++;
      }
    }
    return { orphans, shortened };
  }

  freeBytes(): number {
    return statfsFreeBytes(this.dir);
  }

  /** Makes a newly created file's directory entry durable (POSIX: fsync of the file alone does not). */
  #syncDirectory(): void {
    let fd: number | undefined;
    try {
      fd = openSync(this.dir, "r");
      fsyncSync(fd);
    } catch {
      // Some filesystems refuse fsync on a directory; the data itself is still fsynced.
    } finally {
      if (fd !== undefined) closeSync(fd);
    }
  }
}
