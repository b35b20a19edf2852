/** @module PlanSpillFiles: the temp files a sender's pattern plan keeps its range tables' blocks in, so the plan is not held in memory (issue 14). */
import { closeSync, openSync, readSync, unlinkSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { RANGE_BLOCK_BYTES } from "../../codec/pattern/pattern-range-table.ts";
import type { RangeBlockStore } from "../../codec/pattern/stored-blocks.ts";
import { randomToken } from "../../crypto/random-token.ts";

/**
 * Makes one block store per range table, each an unlinked temp file (nothing is left behind, even if the process
 * dies; the kernel frees it when the descriptor closes), block i at offset i × RANGE_BLOCK_BYTES. Synchronous
 * I/O: the planner pushes rows from the indexer's synchronous callbacks, one 1 MiB block per ~350 Ki rows, and
 * reads them back in order (the page cache serves them). Dispose closes every file.
 */
export class PlanSpillFiles implements Disposable {
  readonly #dir: string;
  readonly #fds: number[] = [];
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

  [Symbol.dispose](): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const fd of this.#fds) closeSync(fd);
  }
}
