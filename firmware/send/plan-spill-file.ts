/** @module PlanSpillFiles: the temp files a sender's pattern plan keeps its range tables' blocks in, and its unit runs (StoredRuns), so the plan is not held in memory (issue 14). */
import { closeSync, openSync, readSync, unlinkSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { HeaderSpill } from "../../codec/pattern/header-spill.ts";
import { RANGE_BLOCK_BYTES } from "../../codec/pattern/pattern-range-table.ts";
import type { RangeBlockStore } from "../../codec/pattern/stored-blocks.ts";
import { randomToken } from "../../crypto/random-token.ts";
import { headerSpillFile } from "../recorder/header-spill-file.ts";

/**
 * Makes one block store per range table, each an unlinked temp file (nothing is left behind, even if the process
 * dies; the kernel frees it when the descriptor closes), block i at offset i × RANGE_BLOCK_BYTES. Synchronous
 * I/O: the planner pushes rows from the indexer's synchronous callbacks, one 1 MiB block per ~350 Ki rows, and
 * reads them back in order (the page cache serves them). Dispose closes every file.
 */
export class PlanSpillFiles implements Disposable {
  readonly #dir: string;
  readonly #fds: number[] = [];
  readonly #headers: HeaderSpill[] = [];
  #closed = false;

  constructor(dir: string = tmpdir()) {
    this.#dir = dir;
  }

  /** A new store, for PatternPlanner's `store` option. */
  readonly store = (): RangeBlockStore => {
    if (this.#closed) throw new TypeError("Cannot spill a pattern plan: its files are closed");
    const path = join(this.#dir, `pvrlink-plan-${randomToken()}`);
    const fd = openSync(path, "wx+", 0o600);
    unlinkSync(path);
    this.#fds.push(fd);
    return {
      put: (index, bytes) => {
        for (let done = 0; done < bytes.length; )
          done += writeSync(fd, bytes, done, bytes.length - done, index * RANGE_BLOCK_BYTES + done);
      },
      get: (index, into) => {
        for (let done = 0; done < into.length; ) {
          const n = readSync(fd, into, done, into.length - done, index * RANGE_BLOCK_BYTES + done);
          if (n === 0)
            throw new RangeError(`Cannot read pattern plan block ${index}: the spill file ends early`);
          done += n;
        }
      },
    };
  };

  /**
   * A new file for a version 3/4 pattern header, for PatternDirectEncoder's `headerSpill` option: the encoder
   * writes the header there at once and sends it from there, its cipher reading the runs back (issue 14).
   */
  readonly header = (): HeaderSpill => {
    if (this.#closed) throw new TypeError("Cannot spill a pattern header: the plan's files are closed");
    const spill = headerSpillFile(this.#dir);
    this.#headers.push(spill);
    return spill;
  };

  [Symbol.dispose](): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const fd of this.#fds) closeSync(fd);
    for (const h of this.#headers) h.close();
  }
}
