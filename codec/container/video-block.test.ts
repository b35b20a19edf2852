/** @module Tests for VideoBlock: appended pieces and kernel-written runs, room, growth and clearing. */
import { describe, expect, test } from "bun:test";
import { RUN_FIELDS, VideoBlock } from "./video-block.ts";

function runsOf(block: VideoBlock): number[][] {
  const out: number[][] = [];
  for (let r = 0; r < block.runCount; r++)
    out.push([...block.runs.subarray(RUN_FIELDS * r, RUN_FIELDS * (r + 1))]);
  return out;
}

describe("VideoBlock", () => {
  test("VideoBlock.append() copies the piece after the last and records it as a run of one unit", () => {
    const block = new VideoBlock(new Uint8Array(16));
    const chunk = Uint8Array.from({ length: 40 }, (_, i) => i);
    block.append(chunk, 4, 10, 1004, 1000);
    block.append(chunk.slice(), 20, 23, 2020, 2000);
    expect([...block.bytes.subarray(0, block.length)]).toEqual([4, 5, 6, 7, 8, 9, 20, 21, 22]);
    expect(runsOf(block)).toEqual([
      [1004, 1000, 6, 1],
      [2020, 2000, 3, 1],
    ]);
    expect(block.room).toBe(7);
  });

  test("VideoBlock.addRun() counts a run's bytes and grows its run table", () => {
    const block = new VideoBlock(new Uint8Array(1 << 20));
    for (let r = 0; r < 1000; r++) block.addRun(r * 1000 + 4, r * 1000, 184, 2);
    expect(block.runCount).toBe(1000);
    expect(block.length).toBe(1000 * 184 * 2);
    expect(runsOf(block)[999]).toEqual([999_004, 999_000, 184, 2]);
  });

  test("VideoBlock.clear() empties it and forgets the source chunk", () => {
    const block = new VideoBlock(new Uint8Array(8));
    const chunk = new Uint8Array([1, 2, 3, 4]);
    block.append(chunk, 0, 4, 0, 0);
    block.clear();
    expect([block.length, block.runCount, block.room]).toEqual([0, 0, 8]);
    chunk[0] = 9; // the same chunk object with new contents: copied afresh
    block.append(chunk, 0, 2, 0, 0);
    expect([...block.bytes.subarray(0, 2)]).toEqual([9, 2]);
  });
});
