import { describe, expect, test } from "bun:test";
import { MAX_SUPPLY_BYTES, Mp4SamplePrefixes, SAMPLE_PREFIX_BYTES } from "./mp4-sample-prefixes.ts";

/** Mulberry32. */
function random(seed: number): (n: number) => number {
  let s = seed >>> 0;
  return (n) => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = Math.imul(s ^ (s >>> 15), s | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) % n;
  };
}

interface Span {
  offset: number;
  size: number;
}

/** Streams `file` in chunks from `from`, then serves missing(); returns each sample's delivered prefix. */
function run(file: Uint8Array, samples: Span[], from: number, chunkSize: () => number) {
  const got = new Map<number, Uint8Array>();
  const p = new Mp4SamplePrefixes(samples, from, (i, prefix) => {
    expect(got.has(i)).toBe(false);
    got.set(i, prefix.slice());
  });
  for (let at = from; at < file.length; ) {
    const n = chunkSize();
    p.push(file.subarray(at, at + n), at);
    at += n;
  }
  const missing = p.missing(file.length);
  for (const r of missing) {
    expect(r.length).toBeLessThanOrEqual(MAX_SUPPLY_BYTES);
    p.supply(r.offset, file.subarray(r.offset, r.offset + r.length), file.length);
  }
  return { got, missing };
}

describe("Mp4SamplePrefixes", () => {
  test("Mp4SamplePrefixes hands every sample exactly its prefix, streamed or supplied, for random tables and chunkings", () => {
    for (let seed = 1; seed <= 200; seed++) {
      const rand = random(seed);
      const file = new Uint8Array(20_000 + rand(30_000)).map((_, i) => (i * 7 + seed) & 0xff);
      const samples: Span[] = [];
      const count = 1 + rand(300);
      for (let k = 0; k < count; k++) {
        // Overlapping, repeated, zero-size, past-the-end and prefix-straddling samples all occur.
        const offset =
          rand(4) === 0 && samples.length > 0
            ? samples[rand(samples.length)]!.offset
            : rand(file.length + 500);
        samples.push({ offset, size: rand(5) === 0 ? 0 : 1 + rand(rand(2) ? 6000 : 300) });
      }
      const from = rand(3) === 0 ? 0 : rand(file.length);
      const { got } = run(file, samples, from, () => 1 + rand(rand(2) ? 64 : 9000));
      samples.forEach((s, i) => {
        const need = Math.min(s.size, SAMPLE_PREFIX_BYTES, file.length - s.offset);
        if (need <= 0) {
          expect([seed, i, got.has(i)]).toEqual([seed, i, false]);
          return;
        }
        expect([
          seed,
          i,
          Buffer.from(got.get(i) ?? []).equals(file.subarray(s.offset, s.offset + need)),
        ]).toEqual([seed, i, true]);
      });
    }
  });

  test("Mp4SamplePrefixes keeps 300 000 samples at one offset as one group (a repeated stco entry)", () => {
    const file = new Uint8Array(100_000).map((_, i) => i & 0xff);
    const samples: Span[] = Array.from({ length: 300_000 }, () => ({ offset: 50_000, size: 10_000 }));
    let delivered = 0;
    const views = new Set<number>();
    const p = new Mp4SamplePrefixes(samples, 0, (_i, prefix) => {
      delivered++;
      views.add(prefix.byteOffset);
    });
    for (let at = 0; at < file.length; at += 1000) p.push(file.subarray(at, at + 1000), at);
    expect(delivered).toBe(300_000);
    // All were handed the same bytes from one join, not one copy each.
    expect(views.size).toBe(1);
    expect(p.missing(file.length)).toEqual([]);
  });

  test("Mp4SamplePrefixes.missing() merges overlapping prefixes into bounded ranges", () => {
    const samples: Span[] = [
      { offset: 100, size: 50 },
      { offset: 120, size: 5000 },
      { offset: 10_000, size: 10 },
      { offset: 10_010, size: 10 },
    ];
    const p = new Mp4SamplePrefixes(samples, 20_000, () => {});
    expect(p.missing(12_000)).toEqual([
      { offset: 100, length: 20 + SAMPLE_PREFIX_BYTES },
      { offset: 10_000, length: 20 },
    ]);
  });
});
