/** @module PlanSpillFiles: the temp files a sender's pattern plan keeps its range tables' blocks in, and its unit runs (StoredRuns), so the plan is not held in memory (issue 14). */
import { tmpdir } from "node:os";
import type { HeaderSpill } from "../../codec/pattern/header-spill.ts";
import { RANGE_BLOCK_BYTES } from "../../codec/pattern/pattern-range-table.ts";
import type { RangeBlockStore } from "../../codec/pattern/stored-blocks.ts";
import { headerSpillFile } from "../files/header-spill-file.ts";
import { UnlinkedTempFile } from "../files/unlinked-temp-file.ts";

/**
 * Makes one block store per range table, each an unlinked temp file (nothing is left behind, even if the process
 * dies; the kernel frees it when the descriptor closes), block i at offset i × RANGE_BLOCK_BYTES. Synchronous
 * I/O: the planner pushes rows from the indexer's synchronous callbacks, one 1 MiB block per ~350 Ki rows, and
 * reads them back in order (the page cache serves them). Dispose closes every file.
 */
export class PlanSpillFiles implements Disposable {
  readonly #dir: string;
  readonly #files: UnlinkedTempFile[] = [];
  readonly #headers: HeaderSpill[] = [];
  #closed = false;

  constructor(dir: string = tmpdir()) {
    this.#dir = dir;
  }

  /** A new store, for PatternPlanner's `store` option. */
  readonly store = (): RangeBlockStore => {
    if (this.#closed) throw new TypeError("Cannot spill a pattern plan: its files are closed");
    const file = UnlinkedTempFile.create(this.#dir, "pvrlink-plan");
    this.#files.push(file);
    return {
      put: (index, bytes) => file.write(bytes, index * RANGE_BLOCK_BYTES),
      get: (index, into) => {
        if (file.read(into, index * RANGE_BLOCK_BYTES) < into.length)
          throw new RangeError(`Cannot read pattern plan block ${index}: the spill file ends early`);
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
    for (const file of this.#files) file.close();
    for (const h of this.#headers) h.close();
  }
}
