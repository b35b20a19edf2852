/** @module Tests for releaseBuffer(): only a view spanning its whole, ordinary ArrayBuffer is detached. */
import { describe, expect, test } from "bun:test";
import { RELEASE_MIN_BYTES, releaseBuffer } from "./release-buffer.ts";

const BIG = RELEASE_MIN_BYTES;

describe("releaseBuffer()", () => {
  const cases: Array<{ what: string; view: () => Uint8Array; released: boolean }> = [
    { what: "a fresh Uint8Array", view: () => new Uint8Array(BIG), released: true },
    { what: "a Buffer of its own", view: () => Buffer.alloc(BIG), released: true },
    {
      what: "a view of part of a buffer",
      view: () => new Uint8Array(BIG * 2).subarray(0, BIG),
      released: false,
    },
    { what: "a view past the start", view: () => new Uint8Array(BIG + 1).subarray(1), released: false },
    { what: "a small buffer", view: () => new Uint8Array(BIG - 1), released: false },
    { what: "a pooled small Buffer", view: () => Buffer.from("pooled"), released: false },
    {
      what: "a resizable buffer",
      view: () => new Uint8Array(new ArrayBuffer(BIG, { maxByteLength: BIG * 2 })),
      released: false,
    },
    { what: "a shared buffer", view: () => new Uint8Array(new SharedArrayBuffer(BIG)), released: false },
  ];
  for (const c of cases) {
    test(`releaseBuffer() ${c.released ? "releases" : "keeps"} ${c.what}`, () => {
      const view = c.view();
      const length = view.byteLength;
      expect(releaseBuffer(view)).toBe(c.released);
      expect(view.byteLength).toBe(c.released ? 0 : length);
      expect(view.buffer.byteLength === 0).toBe(c.released);
    });
  }

  test("releaseBuffer() keeps a buffer already released", () => {
    const view = new Uint8Array(BIG);
    expect(releaseBuffer(view)).toBe(true);
    expect(releaseBuffer(view)).toBe(false);
  });

  test("releaseBuffer() frees the memory without a collection", () => {
    // 256 buffers of 1 MiB, each released at once: the resident set grows by a few MiB at most (left to the
    // collector, the same loop grows it by ~23 MiB here before JavaScriptCore collects).
    Bun.gc(true);
    const before = process.memoryUsage().rss;
    let most = 0;
    for (let i = 0; i < 256; i++) {
      const b = new Uint8Array(1024 * 1024);
      b.fill(i);
      expect(releaseBuffer(b)).toBe(true);
      most = Math.max(most, process.memoryUsage().rss - before);
    }
    expect(most).toBeLessThan(8 * 1024 * 1024);
  });
});
