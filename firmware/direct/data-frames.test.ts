/** @module Tests of dataFrames(): payloads cut into DATA of at most 1 MiB, in order, as views, and an empty payload as one empty DATA. */
import { describe, expect, test } from "bun:test";
import { concat } from "../../codec/split/split-bytes.ts";
import { dataFrames } from "./data-frames.ts";
import { MAX_DATA_BYTES } from "./direct-frame.ts";

describe("dataFrames()", () => {
  const cases: Array<{ name: string; size: number; lengths: number[] }> = [
    { name: "gives one empty DATA for an empty payload", size: 0, lengths: [0] },
    { name: "gives one DATA for a payload under 1 MiB", size: 1, lengths: [1] },
    {
      name: "gives one DATA for a payload of exactly 1 MiB",
      size: MAX_DATA_BYTES,
      lengths: [MAX_DATA_BYTES],
    },
    {
      name: "cuts one byte past 1 MiB into a DATA of its own",
      size: MAX_DATA_BYTES + 1,
      lengths: [MAX_DATA_BYTES, 1],
    },
    {
      name: "cuts a long payload into full DATA and a short last one",
      size: 2 * MAX_DATA_BYTES + 5,
      lengths: [MAX_DATA_BYTES, MAX_DATA_BYTES, 5],
    },
  ];
  for (const c of cases) {
    test(`dataFrames() ${c.name}`, () => {
      const bytes = new Uint8Array(c.size).map((_, i) => i * 31);
      const frames = [...dataFrames(bytes, false)];
      expect(frames.map((f) => f.bytes.byteLength)).toEqual(c.lengths);
      expect(concat(frames.map((f) => f.bytes))).toEqual(bytes);
      // Views of the payload, not copies: sealing reads the caller's bytes.
      for (const f of frames) expect(f.bytes.buffer).toBe(bytes.buffer);
    });
  }

  for (const clear of [true, false]) {
    test(`dataFrames() marks every DATA clear: ${clear}`, () => {
      const frames = [...dataFrames(new Uint8Array(MAX_DATA_BYTES + 1), clear)];
      expect(frames.map((f) => [f.type, f.clear])).toEqual([
        ["data", clear],
        ["data", clear],
      ]);
    });
  }
});
