/** @module Tests of splitOffsetsAt and SplitMerger's resumed merge: a held prefix plus each part's remainder rebuilds the original. */
import { describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { codecErrorCode as codeOf } from "../../test/support/header-corruption.ts";
import { randomBytes, seededInts } from "../../test/support/seeded-random.ts";
import type { ByteRange } from "../recording-index.ts";
import { concat, splitBytes } from "./split-bytes.ts";
import { decodeSplitHeader, peekSplitHeaderLength } from "./split-format.ts";
import { SplitMerger } from "./split-merger.ts";
import { splitOffsetsAt } from "./split-offsets.ts";

const RANGES: ByteRange[] = [
  { offset: 2, length: 3 },
  { offset: 8, length: 2 },
];

describe("splitOffsetsAt()", () => {
  const cases = [
    { position: 0, want: { protected: 0, direct: 0 } },
    { position: 2, want: { protected: 0, direct: 2 } },
    { position: 4, want: { protected: 2, direct: 2 } },
    { position: 5, want: { protected: 3, direct: 2 } },
    { position: 9, want: { protected: 4, direct: 5 } },
    { position: 12, want: { protected: 5, direct: 7 } },
  ];
  for (const c of cases)
    test(`splitOffsetsAt() at byte ${c.position} gives ${JSON.stringify(c.want)}`, () => {
      expect(splitOffsetsAt(RANGES, 12, c.position)).toEqual(c.want);
    });

  for (const bad of [-1, 13, 1.5])
    test(`splitOffsetsAt() rejects position ${bad} with ERR_SPLIT_LENGTH`, () => {
      expect(codeOf(() => splitOffsetsAt(RANGES, 12, bad))).toBe("ERR_SPLIT_LENGTH");
    });
});

/** A part's header and its body past `skip` bytes: what a resumed sender sends of it. */
function remainder(part: Uint8Array, skip: number): Uint8Array {
  const h = peekSplitHeaderLength(part) ?? 0;
  return concat([part.subarray(0, h), part.subarray(h + skip)]);
}

describe("SplitMerger resumed", () => {
  test("a resumed merge at 200 random positions rebuilds the rest byte-exact and verifies the whole SHA-256", () => {
    for (let seed = 1; seed <= 200; seed++) {
      const rand = seededInts(seed);
      const bytes = randomBytes(rand, 1 + rand(3000));
      const ranges: ByteRange[] = [];
      for (let at = rand(50); at < bytes.length - 1; at += 2 + rand(300)) {
        const length = 1 + rand(Math.min(200, bytes.length - at - 1));
        ranges.push({ offset: at, length });
        at += length;
      }
      const parts = splitBytes(bytes, ranges, "es");
      const position = rand(bytes.length + 1);
      const held = splitOffsetsAt(decodeSplitHeader(parts.protected).ranges, bytes.length, position);
      const merger = new SplitMerger({
        position,
        hash: createHash("sha256").update(bytes.subarray(0, position)),
      });
      const out: Uint8Array[] = [];
      const first = rand(2) ? "protected" : "direct";
      const second = first === "protected" ? "direct" : "protected";
      out.push(...merger.push(first, remainder(parts[first], held[first])));
      out.push(...merger.push(second, remainder(parts[second], held[second])));
      merger.finish();
      expect([seed, Buffer.from(concat(out)).equals(bytes.subarray(position))]).toEqual([seed, true]);
    }
  });

  test("a resumed merge whose held prefix is not the original's fails ERR_SPLIT_INTEGRITY", () => {
    const rand = seededInts(3);
    const bytes = randomBytes(rand, 2000);
    const parts = splitBytes(bytes, RANGES, "es");
    const wrong = new Uint8Array(bytes.subarray(0, 1000));
    wrong[10] = (wrong[10]! + 1) & 0xff;
    const merger = new SplitMerger({ position: 1000, hash: createHash("sha256").update(wrong) });
    const held = splitOffsetsAt(RANGES, 2000, 1000);
    merger.push("protected", remainder(parts.protected, held.protected));
    merger.push("direct", remainder(parts.direct, held.direct));
    expect(codeOf(() => merger.finish())).toBe("ERR_SPLIT_INTEGRITY");
  });

  test("a resumed part that sends its whole body again runs past it: ERR_SPLIT_LENGTH", () => {
    const rand = seededInts(4);
    const bytes = randomBytes(rand, 2000);
    const parts = splitBytes(bytes, RANGES, "es");
    const merger = new SplitMerger({ position: 1000, hash: createHash("sha256") });
    expect(codeOf(() => merger.push("direct", parts.direct))).toBe("ERR_SPLIT_LENGTH");
  });

  test("a resume position past the original fails ERR_SPLIT_LENGTH when the header comes", () => {
    const bytes = new Uint8Array(100);
    const parts = splitBytes(bytes, RANGES, "es");
    const merger = new SplitMerger({ position: 101, hash: createHash("sha256") });
    expect(codeOf(() => merger.push("direct", parts.direct))).toBe("ERR_SPLIT_LENGTH");
  });
});
