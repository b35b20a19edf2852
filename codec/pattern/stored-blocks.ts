/** @module StoredBlocks: a PatternRangeTable's side of its block store (which blocks are there, the one read back); RangeBlockStore is the store itself. */

/**
 * Where a table keeps its written blocks out of memory (a sender's temp file, firmware/send/plan-spill-file.ts):
 * the codec does no I/O, it hands each block over once it is full and asks for it back when a reader gets there.
 */
export interface RangeBlockStore {
  /** Keeps the written bytes of block `index` (at most RANGE_BLOCK_BYTES); the table drops its own copy. */
  put(index: number, bytes: Uint8Array): void;
  /** Fills `into` (the block's written length) with block `index` as it was put. */
  get(index: number, into: Uint8Array): void;
}

/** The blocks a table handed to its store, and one reused buffer the last one read back is in. */
export class StoredBlocks {
  readonly #store: RangeBlockStore;
  readonly #stored: boolean[] = [];
  #cacheIndex = -1;
  #cache: Uint8Array = new Uint8Array(0);

  constructor(store: RangeBlockStore) {
    this.#store = store;
  }

  /** Hands block `index`'s written bytes to the store. */
  keep(index: number, bytes: Uint8Array): void {
    this.#store.put(index, bytes);
    this.#stored[index] = true;
  }

  /** Notes that block `index` is in the store already (a table over stored bytes, PatternRangeTable.fromStored()). */
  adopt(index: number): void {
    this.#stored[index] = true;
  }

  /** Whether block `index` is in the store. */
  has(index: number): boolean {
    return this.#stored[index] === true;
  }

  /** Block `index` (`used` bytes written) read back into the reused buffer, `bufferBytes` long; valid until the next. */
  read(index: number, used: number, bufferBytes: number): Uint8Array {
    if (this.#cacheIndex !== index) {
      if (this.#cache.length < used) this.#cache = new Uint8Array(bufferBytes);
      this.#store.get(index, this.#cache.subarray(0, used));
      this.#cacheIndex = index;
    }
    return this.#cache;
  }

  /** Block `index` read back into an array of its own. */
  copy(index: number, used: number): Uint8Array {
    const out = new Uint8Array(used);
    this.#store.get(index, out);
    return out;
  }
}
