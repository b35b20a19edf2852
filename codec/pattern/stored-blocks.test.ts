/** @module Tests of StoredBlocks: blocks handed to a store come back as they went, in a reused buffer or a copy of their own. */
import { describe, expect, test } from "bun:test";
import { type RangeBlockStore, StoredBlocks } from "./stored-blocks.ts";

/** A store in memory that counts its reads. */
function memoryStore(): RangeBlockStore & { reads: number } {
  const blocks = new Map<number, Uint8Array>();
  return {
    reads: 0,
    put(index, bytes) {
      blocks.set(index, bytes.slice());
    },
    get(index, into) {
      this.reads++;
      into.set(blocks.get(index)!.subarray(0, into.length));
    },
  };
}

describe("StoredBlocks", () => {
  const blocks = [Uint8Array.of(1, 2, 3), new Uint8Array(5000).fill(9), Uint8Array.of(7)];
  test.each(blocks.map((b, i) => [i, b.length] as const))(
    "block %i (%i bytes) reads back as it was kept",
    (i) => {
      const store = memoryStore();
      const s = new StoredBlocks(store);
      for (const [k, b] of blocks.entries()) s.keep(k, b);
      expect([s.has(i), s.has(blocks.length)]).toEqual([true, false]);
      const used = blocks[i]!.length;
      expect(s.read(i, used, 8192).subarray(0, used)).toEqual(blocks[i]!);
      // The same block again comes from the buffer, not the store; a copy is an array of its own.
      s.read(i, used, 8192);
      expect(store.reads).toBe(1);
      const copy = s.copy(i, used);
      expect(copy).toEqual(blocks[i]!);
      expect(copy.buffer).not.toBe(s.read(i, used, 8192).buffer);
    },
  );
});
