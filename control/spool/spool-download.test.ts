/** @module Tests for followTransfer(): the bytes from an offset, each chunk freed once the response has taken the next. */
import { describe, expect, test } from "bun:test";
import { SeededRandom } from "../../test/support/seeded-random.ts";
import { DOWNLOAD_CHUNK_BYTES, followTransfer, type GrowthSource } from "./spool-download.ts";

/** A complete transfer held in memory; `short` makes every read return one byte less than asked, as a view. */
function completeSource(
  bytes: Uint8Array,
  o: { short?: boolean } = {},
): GrowthSource & { reads: Uint8Array[] } {
  const reads: Uint8Array[] = [];
  return {
    reads,
    state: async () => ({ available: bytes.byteLength, complete: true, exists: true }),
    waitForGrowth: async () => {},
    read: async (start, end) => {
      const n = o.short && end - start > 1 ? end - start - 1 : end - start;
      const buf = new Uint8Array(end - start);
      buf.set(bytes.subarray(start, start + n));
      const out = buf.subarray(0, n);
      reads.push(out);
      return out;
    },
  };
}

describe("followTransfer()", () => {
  const cases = [
    { name: "frees each whole chunk at the next pull", offset: 0, short: false },
    { name: "frees each whole chunk from an offset", offset: 12_345, short: false },
    { name: "leaves a short read's partial view to the collector", offset: 0, short: true },
  ];
  for (const c of cases) {
    test(`followTransfer() ${c.name}, and delivers every byte`, async () => {
      const bytes = new SeededRandom(5).bytes(3 * DOWNLOAD_CHUNK_BYTES + 999);
      const src = completeSource(bytes, { short: c.short });
      const reader = followTransfer({ offset: c.offset, source: src, idleMs: 1000 }).getReader();
      const got: Uint8Array[] = [];
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        got.push(Buffer.from(value));
      }
      expect(Buffer.compare(Buffer.concat(got), bytes.subarray(c.offset))).toBe(0);
      expect(src.reads.length).toBeGreaterThan(2);
      // The last chunk is still lent when the stream closes; every one before it was freed unless partial.
      const freed = src.reads.slice(0, -1).filter((r) => r.byteLength === 0).length;
      expect(freed).toBe(c.short ? 0 : src.reads.length - 1);
    });
  }
});
