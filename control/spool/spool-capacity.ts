/** @module Node-wide spool admission: a cap on what all transfers together may reserve, and free space kept back for the database, both checked before a byte is written. */
import { statfsSync } from "node:fs";
import { ApiError } from "../errors/api-error.ts";
import type { SqlQueries } from "../store/sql-driver.ts";
import type { SpoolEntry } from "./spool-entry.ts";

/** What admission reads: the index's live totals, and the backend's free bytes. */
export interface CapacitySource {
  liveTotals(now: number, q?: SqlQueries): Promise<{ reserved: number; unwritten: number }>;
  readonly blobs: { freeBytes(): number };
}

export interface SpoolCapacityOptions {
  /** Declared bytes all live transfers together may reserve (per-device quotas alone let N devices fill a disk). */
  capBytes: number;
  /** Free bytes the spool never takes, so the database (nonces, sessions, accounting) can still write. */
  reserveBytes: number;
  /** Free bytes on the spool's backend (statfs for a directory, unbounded on S3); replaceable for unit tests. */
  freeBytes?: () => number;
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
  readonly #src: CapacitySource;
  readonly #o: SpoolCapacityOptions;
  readonly #free: () => number;

  constructor(src: CapacitySource, o: SpoolCapacityOptions) {
    this.#src = src;
    this.#o = o;
    this.#free = o.freeBytes ?? (() => src.blobs.freeBytes());
  }

  /**
   * Throws 507 spool_full or insufficient_storage unless a new transfer of size bytes fits; q is the create's
   * transaction, so the check and the insert are one step.
   */
  async admitTransfer(size: number, now: number, q?: SqlQueries): Promise<void> {
    const live = await this.#src.liveTotals(now, q);
    const reserved = live.reserved;
    if (reserved + size > this.#o.capBytes) {
      throw new ApiError(507, "spool_full", `Cannot accept ${size} bytes: the node's spool is full`, {
        details: { reserved, cap: this.#o.capBytes },
      });
    }
    this.#needFree(size + live.unwritten, size);
  }

  /** Throws 507 insufficient_storage unless the rest of e's bytes fit above the reserve. */
  admitWrite(e: SpoolEntry): void {
    this.#needFree(e.size - e.received, e.size - e.received);
  }

  #needFree(bytes: number, asked: number): void {
    let free: number;
    try {
      free = this.#free();
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
