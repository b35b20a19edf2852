/** @module Tests of pushHoldingBlocks(): whole blocks transformed once, cut blocks held until complete, the body given out in order, each byte once. */
import { describe, expect, test } from "bun:test";
import { SeededRandom } from "../../test/support/seeded-random.ts";
import { type HeldBytes, pushHoldingBlocks } from "./held-block-push.ts";

const BLOCK = 4;

/** A toy cipher over a body whose every byte is in a BLOCK-byte block: adds 1 to each byte of each whole block. */
function toyCipher(bodyLength: number) {
  const state: HeldBytes = { held: new Uint8Array(0) };
  let committed = 0;
  let transformed = 0;
  const transform = (work: Uint8Array): number => {
    // Only blocks that lie inside the body are ever whole (a real plan's block past the body never is).
    const inBody = Math.floor((bodyLength - committed) / BLOCK) * BLOCK;
    const whole = Math.min(work.length - (work.length % BLOCK), inBody);
    for (let i = 0; i < whole; i++) work[i] = (work[i]! + 1) & 0xff;
    transformed += whole;
    committed += whole;
    return whole;
  };
  const lacking = () => BLOCK - state.held.length;
  return {
    push: (chunk: Uint8Array) => pushHoldingBlocks(state, chunk, { lacking, transform }),
    held: () => state.held.length,
    transformed: () => transformed,
  };
}

describe("pushHoldingBlocks()", () => {
  const body = Uint8Array.from({ length: 64 }, (_, i) => i);
  const chunkings: Array<[string, number[]]> = [
    ["one chunk", [64]],
    ["block-sized chunks", Array(16).fill(4)],
    ["one-byte chunks", Array(64).fill(1)],
    ["chunks that cut blocks", [3, 5, 7, 1, 2, 9, 13, 24]],
    ["an empty chunk among them", [6, 0, 10, 48]],
  ];
  for (const [name, sizes] of chunkings) {
    test(`pushHoldingBlocks() gives out every byte once, transformed once, for ${name}`, () => {
      const c = toyCipher(body.length);
      const out: number[] = [];
      let at = 0;
      for (const n of sizes) {
        for (const piece of c.push(body.slice(at, at + n))) out.push(...piece);
        at += n;
      }
      expect(c.held()).toBe(0);
      expect(c.transformed()).toBe(64);
      expect(out).toEqual(Array.from(body, (b) => b + 1));
    });
  }

  test("pushHoldingBlocks() holds the rest of a chunk behind a block the chunk cannot complete", () => {
    const c = toyCipher(6);
    const out = c.push(body.slice(0, 6)).flatMap((p) => Array.from(p));
    expect(out).toEqual([1, 2, 3, 4]);
    expect(c.held()).toBe(2);
    // The body promised 6 bytes: the block of bytes 4..7 can never be whole, so what follows stays held.
    expect(c.push(body.slice(6, 10)).flatMap((p) => Array.from(p))).toEqual([]);
    expect(c.held()).toBe(6);
  });

  test("pushHoldingBlocks() agrees with one push for random chunkings", () => {
    const random = new SeededRandom(7);
    for (let round = 0; round < 50; round++) {
      const c = toyCipher(body.length);
      const out: number[] = [];
      let at = 0;
      while (at < body.length) {
        const n = random.below(13);
        for (const piece of c.push(body.slice(at, at + n))) out.push(...piece);
        at += n;
      }
      expect(out).toEqual(Array.from(body, (b) => b + 1));
    }
  });
});
