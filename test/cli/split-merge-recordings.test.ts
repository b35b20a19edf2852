/** @module The real x64 binary splits and merges every test recording, intact and damaged, byte-exact, with no I-picture byte in the direct part. */
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { indexRecording } from "../../codec/container/index-recording.ts";
import type { RecordingIndex } from "../../codec/recording-index.ts";
import { decodeSplitHeader } from "../../codec/split/split-format.ts";
import { complement } from "../support/byte-windows.ts";
import { DAMAGES } from "../support/damage.ts";
import { firstUncoveredByte, iPictureFileRanges } from "../support/i-picture-file-ranges.ts";
import { runPvrlink, testRecordings } from "../support/pvrlink-process.ts";
import { seededInts } from "../support/seeded-random.ts";

const work = mkdtempSync(join(tmpdir(), "pvrlink-split-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** Splits and merges through the binary and checks everything the issue promises; returns the index. */
async function splitMergeCheck(name: string, bytes: Uint8Array): Promise<RecordingIndex> {
  const input = join(work, `${name}.in`);
  const dir = join(work, `${name}.parts`);
  const output = join(work, `${name}.out`);
  writeFileSync(input, bytes);
  const split = await runPvrlink(["split", input, "--out", dir]);
  expect({ code: split.code, stderr: split.stderr }).toEqual({ code: 0, stderr: "" });
  const merge = await runPvrlink(["merge", dir, "--out", output]);
  expect({ code: merge.code, stderr: merge.stderr }).toEqual({ code: 0, stderr: "" });
  expect(Buffer.from(readFileSync(output)).equals(bytes)).toBe(true);

  const index = indexRecording(bytes);
  const direct = readFileSync(join(dir, "direct"));
  const protectedPart = readFileSync(join(dir, "protected"));
  const header = decodeSplitHeader(direct);
  expect(header.part).toBe("direct");
  expect(header.container).toBe(index.container);
  expect(header.originalLength).toBe(bytes.length);
  expect(header.ranges.map(({ offset, length }) => ({ offset, length }))).toEqual(index.protectedRanges);
  // The direct body is exactly the bytes outside the ranges, and every I-picture byte is inside them.
  expect(direct.subarray(header.headerLength).equals(complement(bytes, header.ranges))).toBe(true);
  expect(protectedPart.length - header.headerLength).toBe(header.ranges.reduce((s, r) => s + r.length, 0));
  expect(firstUncoveredByte(iPictureFileRanges(bytes, index), header.ranges)).toBe(-1);
  return index;
}

for (const path of testRecordings()) {
  const name = basename(path);
  const bytes = new Uint8Array(readFileSync(path));
  describe(`pvrlink split/merge ${name}`, () => {
    test("is byte-identical and keeps every I-picture byte out of direct", async () => {
      const index = await splitMergeCheck(name, bytes);
      // An intact recording has I-pictures; without them the check above would prove nothing.
      expect(index.counts.I).toBeGreaterThan(0);
      expect(index.protectedRanges.length).toBeGreaterThan(0);
    });
    for (const [damage, make] of Object.entries(DAMAGES)) {
      test(`stays byte-exact when ${damage}`, async () => {
        await splitMergeCheck(`${name}.${damage.replaceAll(" ", "-")}`, make(bytes, seededInts(name.length)));
      });
    }
  });
}
