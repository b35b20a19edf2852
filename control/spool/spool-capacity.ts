/** @module Node-wide spool admission: a cap on what all transfers together may reserve, and free space kept back for the database, both checked before a byte is written. */
import type { Database } from "bun:sqlite";
import { statfsSync } from "node:fs";
import { ApiError } from "../errors/api-error.ts";
import type { SpoolEntry } from "./spool-store.ts";

export interface SpoolCapacityOptions {
  /** Declared bytes all live transfers together may reserve (per-device quotas alone let N devices fill a disk). */
  capBytes: number;
  /** Free bytes the spool never takes, so the database (nonces, sessions, accounting) can still write. */
  reserveBytes: number;
  /** Free bytes on the spool's filesystem; statfs by default, replaceable for unit tests. */
  freeBytes?: (dir: string) => number;
}

/** Free bytes an unprivileged writer may use on the filesystem holding dir (statfs f_bavail). */
export function statfsFreeBytes(dir: string): number {
  const s = statfsSync(dir);
  return s.bavail * s.bsize;
}

/**
 * Admission for the spool (issue 21 item 2). A transfer is admitted only if the node-wide cap holds and the
 * filesystem can take its bytes, plus every other admitted but unwritten byte, and still keep the reserve; an
 * upload is admitted only if its remaining bytes fit above the reserve now. Both refusals are 507, before writing.
 */
export class SpoolCapacity {
  readonly #db: Database;
  readonly #dir: string;
  readonly #o: SpoolCapacityOptions;
  readonly #free: (dir: string) => number;

  constructor(db: Database, dir: string, o: SpoolCapacityOptions) {
    this.#db = db;
    this.#dir = dir;
    this.#o = o;
    this.#free = o.freeBytes ?? statfsFreeBytes;
  }

  /** Throws 507 spool_full or insufficient_storage unless a new transfer of size bytes fits. */
  admitTransfer(size: number, now: number): void {
    const live = this.#db
      .query<{ reserved: number | null; unwritten: number | null }, [number]>(
        `SELECT SUM(size) AS reserved, SUM(CASE WHEN complete = 0 THEN size - received ELSE 0 END) AS unwritten
         FROM spool_transfers WHERE expires_at > ?`,
      )
      .get(now);
    const reserved = live?.reserved ?? 0;
    if (reserved + size > this.#o.capBytes) {
      throw new ApiError(507, "spool_full", `Cannot accept ${size} bytes: the node's spool is full`, {
        details: { reserved, cap: this.#o.capBytes },
      });
    }
    this.#needFree(size + (live?.unwritten ?? 0), size);
  }

  /** Throws 507 insufficient_storage unless the rest of e's bytes fit above the reserve. */
  admitWrite(e: SpoolEntry): void {
    this.#needFree(e.size - e.received, e.size - e.received);
  }

  #needFree(bytes: number, asked: number): void {
    let free: number;
    try {
      free = this.#free(this.#dir);
    } catch {
      free = 0; // An unreadable filesystem is treated as full: refusing is safe, writing blind is not.
    }
    if (free - bytes < this.#o.reserveBytes) {
      throw new ApiError(
        507,
        "insufficient_storage",
        `Cannot accept ${asked} bytes: the node keeps ${this.#o.reserveBytes} bytes free and has ${free}`,
        { details: { free, reserve: this.#o.reserveBytes } },
      );
    }
  }
}

/** The 507 an upload ends with when the filesystem itself ran out (ENOSPC) mid-write; what was fsynced stays. */
export function noSpaceError(err: unknown, received: number): ApiError | null {
  const code = (err as { code?: unknown } | null)?.code;
  if (code !== "ENOSPC" && code !== "EDQUOT") return null;
  return new ApiError(507, "insufficient_storage", "Cannot store more bytes: the node's disk is full", {
    details: { received },
  });
}
