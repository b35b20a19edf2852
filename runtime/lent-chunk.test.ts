/** @module Tests for LentChunk: the chunk lent last is freed at release(), once, and others at discard(). */
import { describe, expect, test } from "bun:test";
import { HeapPacer } from "./heap-pacer.ts";
import { LentChunk } from "./lent-chunk.ts";

const MIB = 1024 * 1024;

/** A pacer that collects at every byte, so `collections` counts the chunks it was given to count. */
function countingPacer(): { pacer: HeapPacer; collections: () => number } {
  let n = 0;
  return { pacer: new HeapPacer(1, () => n++), collections: () => n };
}

describe("LentChunk", () => {
  const cases: Array<{
    what: string;
    chunk: () => Uint8Array;
    paced: boolean;
    freed: boolean;
    counted: number;
  }> = [
    { what: "frees a whole chunk", chunk: () => new Uint8Array(MIB), paced: true, freed: true, counted: 0 },
    {
      what: "counts a partial view towards the pacer",
      chunk: () => new Uint8Array(2 * MIB).subarray(MIB),
      paced: true,
      freed: false,
      counted: 1,
    },
    {
      what: "frees a whole chunk without a pacer",
      chunk: () => new Uint8Array(MIB),
      paced: false,
      freed: true,
      counted: 0,
    },
    {
      what: "leaves a partial view alone without a pacer",
      chunk: () => new Uint8Array(2 * MIB).subarray(MIB),
      paced: false,
      freed: false,
      counted: 0,
    },
  ];
  for (const c of cases) {
    test(`release() ${c.what}`, () => {
      const { pacer, collections } = countingPacer();
      const lent = new LentChunk(c.paced ? pacer : undefined);
      const chunk = c.chunk();
      lent.lend(chunk);
      expect(chunk.byteLength).toBe(MIB);
      lent.release();
      expect(chunk.byteLength === 0).toBe(c.freed);
      expect(collections()).toBe(c.counted);
    });
  }

  test("release() frees the chunk once, and nothing when none is lent", () => {
    const { pacer, collections } = countingPacer();
    const lent = new LentChunk(pacer);
    lent.release();
    const partial = new Uint8Array(2 * MIB).subarray(MIB);
    lent.lend(partial);
    lent.release();
    lent.release();
    expect(collections()).toBe(1);
  });

  test("release() frees only the chunk lent last", () => {
    const lent = new LentChunk(new HeapPacer());
    const first = new Uint8Array(MIB);
    const second = new Uint8Array(MIB);
    lent.lend(first);
    lent.release();
    lent.lend(second);
    expect(first.byteLength).toBe(0);
    expect(second.byteLength).toBe(MIB);
  });

  test("discard() frees a chunk that was never lent, and leaves the lent one", () => {
    const lent = new LentChunk(new HeapPacer());
    const held = new Uint8Array(MIB);
    const dropped = new Uint8Array(MIB);
    lent.lend(held);
    lent.discard(dropped);
    expect(dropped.byteLength).toBe(0);
    expect(held.byteLength).toBe(MIB);
  });
});
