/** @module Tests of PendingHeader: a header collected across chunks, bounded by the next start code. */
import { describe, expect, test } from "bun:test";
import { SeededRandom } from "../../test/support/seeded-random.ts";
import { PendingHeader } from "./pending-header.ts";
import { SEQUENCE_HEADER_MAX_BYTES } from "./sequence-header.ts";
import { GROUP_START_CODE, PICTURE_START_CODE, SEQUENCE_HEADER_CODE } from "./start-codes.ts";

/** Feeds `stream` (one start code at 0; the first chunk holds it all, as the scanner hands it over) in the given chunk sizes and takes the header at `end`. */
function collect(code: number, stream: Uint8Array, sizes: number[], end: number): number[] {
  const h = new PendingHeader();
  let at = 0;
  for (const n of sizes) {
    const chunk = stream.subarray(at, at + n);
    if (at === 0) h.start(code, 0, chunk, 3);
    else h.fill(chunk, 0);
    at += n;
  }
  return [...h.take(end)];
}

describe("PendingHeader", () => {
  const picture = Uint8Array.from({ length: 40 }, (_, i) => (i < 3 ? [0, 0, 1][i]! : i === 3 ? 0 : i));
  const cases: { name: string; code: number; sizes: number[]; end: number; want: number }[] = [
    {
      name: "keeps 16 bytes of a picture header in one chunk",
      code: PICTURE_START_CODE,
      sizes: [40],
      end: 40,
      want: 16,
    },
    {
      name: "keeps 16 bytes of a picture header split byte by byte",
      code: PICTURE_START_CODE,
      sizes: [4, ...Array(36).fill(1)],
      end: 40,
      want: 16,
    },
    {
      name: "cuts a GOP header at the next start code",
      code: GROUP_START_CODE,
      sizes: [5, 35],
      end: 7,
      want: 7,
    },
    {
      name: "keeps a sequence header up to its maximum",
      code: SEQUENCE_HEADER_CODE,
      sizes: [30, 10],
      end: 40,
      want: 40,
    },
  ];
  for (const c of cases) {
    test(`take() ${c.name}`, () => {
      const stream = picture.slice();
      stream[3] = c.code;
      expect(collect(c.code, stream, c.sizes, c.end)).toEqual([...stream.subarray(0, c.want)]);
    });
  }

  test("take() ends collection: code is -1 and fill() copies nothing more", () => {
    const h = new PendingHeader();
    h.start(PICTURE_START_CODE, 100, Uint8Array.of(0, 0, 1, 0, 9), 3);
    expect([h.code, h.offset]).toEqual([PICTURE_START_CODE, 100]);
    expect([...h.take(105)]).toEqual([0, 0, 1, 0, 9]);
    expect(h.code).toBe(-1);
    h.fill(Uint8Array.of(7, 7, 7), 0);
    expect(h.take(200).length).toBe(5);
  });

  test("random chunkings of random bytes never exceed the buffer and match a one-chunk run (seeded)", () => {
    const random = new SeededRandom(15);
    for (let round = 0; round < 200; round++) {
      const stream = random.bytes(3 + random.below(300));
      stream.set([0, 0, 1, SEQUENCE_HEADER_CODE]);
      const sizes: number[] = [];
      for (let left = stream.length; left > 0; ) {
        const n = Math.max(4, 1 + random.below(left));
        sizes.push(Math.min(n, left));
        left -= n;
      }
      const end = random.below(stream.length + 1);
      const got = collect(SEQUENCE_HEADER_CODE, stream, sizes, end);
      expect(got.length).toBeLessThanOrEqual(SEQUENCE_HEADER_MAX_BYTES);
      expect(got).toEqual(collect(SEQUENCE_HEADER_CODE, stream, [stream.length], end));
    }
  });
});
