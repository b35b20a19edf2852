/** @module Tests for the kernels' shared memory: one per thread, areas apart and inside it, the read area. */
import { describe, expect, test } from "bun:test";
import {
  KERNEL_LAYOUT,
  KERNEL_READ_AREA_BYTES,
  KERNEL_WINDOW_BYTES,
  kernelMemory,
  kernelReadBuffer,
  VIDEO_BLOCK_BYTES,
} from "./kernel-memory.ts";

describe("kernelMemory()", () => {
  test("kernelMemory() makes one memory per thread, of the layout's size", () => {
    const m = kernelMemory();
    expect(m).not.toBeNull();
    expect(kernelMemory()).toBe(m);
    expect(m!.buffer.byteLength).toBe(KERNEL_LAYOUT.pages * 65536);
  });

  test("KERNEL_LAYOUT areas lie in order, apart, with room for the TS walk's 16-byte copies after each", () => {
    const L = KERNEL_LAYOUT;
    const areas: [string, number, number][] = [
      ["read", L.readArea, KERNEL_READ_AREA_BYTES],
      ["copy", L.copyArea, KERNEL_WINDOW_BYTES + 3],
      ["results", L.results, L.resultsBytes],
      ["records", L.records, L.recordsBytes],
      ["ts copy", L.tsCopyArea, KERNEL_WINDOW_BYTES],
      ["video block", L.videoBlock, VIDEO_BLOCK_BYTES],
      ["ts runs", L.tsRuns, L.tsRunsBytes],
      ["pid state", L.pidState, L.pidStateBytes],
    ];
    for (let i = 1; i < areas.length; i++) {
      const [name, start] = areas[i]!;
      const [before, prevStart, prevBytes] = areas[i - 1]!;
      expect([name, start >= prevStart + prevBytes]).toEqual([name, true]);
      if (before === "ts copy" || before === "video block")
        expect(start - (prevStart + prevBytes)).toBeGreaterThanOrEqual(16);
    }
    const [, lastStart, lastBytes] = areas[areas.length - 1]!;
    expect(lastStart + lastBytes + 16).toBeLessThanOrEqual(L.pages * 65536);
    // One run record per 188-byte packet of a window, and one picture-head record per start-code result.
    expect(L.tsRunsBytes / 16).toBeGreaterThanOrEqual(Math.ceil(KERNEL_WINDOW_BYTES / 188));
    expect(L.recordsBytes).toBe(2 * L.resultsBytes);
  });

  test("kernelReadBuffer() is the read area, a view of the kernels' memory", () => {
    const area = kernelReadBuffer()!;
    expect(area.length).toBe(KERNEL_READ_AREA_BYTES);
    expect(area.buffer).toBe(kernelMemory()!.buffer);
    expect(area.byteOffset).toBe(KERNEL_LAYOUT.readArea);
  });
});
