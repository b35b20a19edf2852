/** @module Tests for HeapPacer: one collection per `everyBytes` moved, whatever the chunk sizes. */

import { heapSize } from "bun:jsc";
import { describe, expect, test } from "bun:test";
import {
  collectTransferGarbage,
  FULL_EVERY,
  HeapPacer,
  PACE_BYTES,
  steppedCollections,
} from "./heap-pacer.ts";

const MIB = 1024 * 1024;

/** ~20 MiB of small objects, built in a frame of its own so no stack slot of the test keeps them. */
function litter(): { count: number } {
  const garbage = Array.from({ length: 400_000 }, (_, i) => ({ i, name: `piece ${i}` }));
  return { count: garbage.length };
}

describe("HeapPacer", () => {
  const cases: Array<{ what: string; every: number; chunks: number[]; collections: number }> = [
    { what: "nothing below the step", every: 100, chunks: [99], collections: 0 },
    { what: "one at exactly the step", every: 100, chunks: [60, 40], collections: 1 },
    { what: "one per step over many small chunks", every: 100, chunks: Array(1000).fill(1), collections: 10 },
    { what: "one for a chunk larger than several steps", every: 100, chunks: [350], collections: 1 },
    {
      what: "counting afresh after each one (no excess carried)",
      every: 100,
      chunks: [150, 60, 40],
      collections: 2,
    },
  ];
  for (const c of cases) {
    test(`moved() collects ${c.what}`, () => {
      let n = 0;
      const pacer = new HeapPacer(c.every, () => n++);
      for (const b of c.chunks) pacer.moved(b);
      expect(n).toBe(c.collections);
    });
  }

  const releases: Array<{ what: string; chunk: () => Uint8Array; freed: boolean; counted: number }> = [
    {
      what: "frees a chunk it owns whole, counting nothing",
      chunk: () => new Uint8Array(MIB),
      freed: true,
      counted: 0,
    },
    {
      what: "counts a partial view it cannot free",
      chunk: () => new Uint8Array(2 * MIB).subarray(0, MIB),
      freed: false,
      counted: MIB,
    },
  ];
  for (const c of releases) {
    test(`release() ${c.what}`, () => {
      let n = 0;
      const pacer = new HeapPacer(MIB, () => n++);
      const chunk = c.chunk();
      pacer.release(chunk);
      expect(chunk.byteLength === 0).toBe(c.freed);
      expect(n).toBe(c.counted / MIB);
    });
  }

  const stepped: Array<{ fullEvery?: number; steps: number; young: number; full: number }> = [
    { fullEvery: 1, steps: 5, young: 0, full: 5 },
    { fullEvery: 4, steps: 3, young: 3, full: 0 },
    { fullEvery: 4, steps: 9, young: 7, full: 2 },
    { steps: 2 * FULL_EVERY, young: 2 * FULL_EVERY - 2, full: 2 },
  ];
  for (const c of stepped) {
    test(`steppedCollections() runs ${c.full} full and ${c.young} young in ${c.steps} steps (fullEvery ${c.fullEvery ?? "default"})`, () => {
      const n = { young: 0, full: 0 };
      const step = steppedCollections({
        ...(c.fullEvery !== undefined ? { fullEvery: c.fullEvery } : {}),
        young: () => n.young++,
        full: () => n.full++,
      });
      for (let i = 0; i < c.steps; i++) step();
      expect(n).toEqual({ young: c.young, full: c.full });
    });
  }

  for (const fullEvery of [0, -1, 1.5, Number.NaN])
    test(`steppedCollections() rejects fullEvery ${fullEvery}`, () => {
      expect(() => steppedCollections({ fullEvery })).toThrow(RangeError);
    });

  test("paced() yields every chunk unchanged and counts them", async () => {
    let n = 0;
    const pacer = new HeapPacer(4, () => n++);
    async function* source() {
      for (const b of [[1, 2], [3], [4, 5, 6]]) yield new Uint8Array(b);
    }
    const out: number[] = [];
    for await (const chunk of pacer.paced(source())) out.push(...chunk);
    expect(out).toEqual([1, 2, 3, 4, 5, 6]);
    expect(n).toBe(1);
  });

  test("the default step is PACE_BYTES and the default collection is collectTransferGarbage", () => {
    const pacer = new HeapPacer();
    expect(pacer.everyBytes).toBe(PACE_BYTES);
    expect(pacer.collect).toBe(collectTransferGarbage);
  });

  test("collectTransferGarbage() frees objects that survived an earlier collection", () => {
    // A dropped transfer buffer has often lived through a collection while in flight: a young-generation
    // collection would leave this garbage in the heap, a full one frees it.
    let held: object[] | undefined = Array.from({ length: 400_000 }, (_, i) => ({ i, name: `piece ${i}` }));
    collectTransferGarbage();
    const withHeld = heapSize();
    expect(held.length).toBe(400_000);
    held = undefined;
    expect(litter().count).toBe(400_000);
    new HeapPacer().moved(PACE_BYTES);
    expect(heapSize()).toBeLessThan(withHeld - 8 * MIB);
  });

  for (const bad of [0, -1, Number.NaN]) {
    test(`new HeapPacer(${bad}) is a RangeError`, () => {
      expect(() => new HeapPacer(bad)).toThrow(RangeError);
    });
  }
});
