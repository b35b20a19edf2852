/** @module Fuzz: thousands of mutated and truncated recordings through index + split + merge in-process, a few dozen through the binary. */
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { indexRecording, RecordingIndexer } from "../../codec/container/recording-indexer.ts";
import type { RecordingIndex } from "../../codec/recording-index.ts";
import { mergeBytes, splitBytes } from "../../codec/split/split-bytes.ts";
import { mutate, seededRandom } from "./damage.ts";
import { firstUncoveredByte, iPictureFileRanges } from "./i-picture-file-ranges.ts";
import { runPvrlink, testRecordings } from "./pvrlink-process.ts";

const recordings = testRecordings().map((p) => new Uint8Array(readFileSync(p)));
/** In-process cases; each is a fresh seed, so a failure names the seed that reproduces it. */
const IN_PROCESS_CASES = Number(process.env.FUZZ_CASES ?? 2000);
const BINARY_CASES = 24;

/** Streams bytes through RecordingIndexer in random chunk sizes, serving MP4 range requests from the bytes. */
function indexStreaming(bytes: Uint8Array, rand: (n: number) => number): RecordingIndex {
  const indexer = new RecordingIndexer();
  for (let at = 0; at < bytes.length; ) {
    const n = 1 + rand(rand(2) ? 64 : 40_000);
    indexer.push(bytes.subarray(at, at + n));
    at += n;
  }
  for (let round = 0, need = indexer.finish(); need.length > 0; round++, need = indexer.finish()) {
    if (round > 8) throw new Error("indexer keeps asking for ranges");
    for (const r of need) indexer.supply(r.offset, bytes.subarray(r.offset, r.offset + r.length));
  }
  return indexer.result();
}

function checkOne(seed: number): void {
  const rand = seededRandom(seed);
  const bytes = mutate(recordings[rand(recordings.length)]!, rand);
  let stage = "index";
  try {
    const index = indexRecording(bytes);
    // A quarter of the cases also stream in random chunks: the index must not depend on how bytes arrive.
    if (seed % 4 === 0) {
      stage = "streaming index";
      expect(indexStreaming(bytes, rand)).toEqual(index);
    }
    stage = "split";
    const parts = splitBytes(bytes, index.protectedRanges, index.container);
    stage = "merge";
    const merged = mergeBytes(parts).bytes;
    stage = "compare";
    expect(Buffer.from(merged).equals(bytes)).toBe(true);
    stage = "I-picture coverage";
    expect(firstUncoveredByte(iPictureFileRanges(bytes, index), index.protectedRanges)).toBe(-1);
  } catch (err) {
    throw new Error(`fuzz seed ${seed} failed at ${stage}: ${(err as Error).message}`);
  }
}

describe("fuzz index + split + merge", () => {
  test(`${IN_PROCESS_CASES} mutated recordings in-process: no escaping exception, byte-exact, I-pictures protected`, () => {
    // Runs every case and reports the failures together (first few per stage and message), so one run tells
    // the indexer's and the splitter's owners everything that is wrong, not just the first seed.
    const failures = new Map<string, number[]>();
    for (let seed = 1; seed <= IN_PROCESS_CASES; seed++) {
      try {
        checkOne(seed);
      } catch (err) {
        const key = (err as Error).message.replace(/^fuzz seed \d+ /, "").replace(/\d+/g, "N");
        failures.set(key, [...(failures.get(key) ?? []), seed]);
      }
    }
    const report = [...failures].map(
      ([k, seeds]) => `${seeds.length}x ${k} (seeds ${seeds.slice(0, 5).join(", ")})`,
    );
    expect(report).toEqual([]);
  });

  const work = mkdtempSync(join(tmpdir(), "pvrlink-fuzz-"));
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  test(`${BINARY_CASES} mutated recordings through the binary: exit 0 and byte-exact`, async () => {
    for (let seed = 100_001; seed < 100_001 + BINARY_CASES; seed++) {
      const rand = seededRandom(seed);
      const bytes = mutate(recordings[rand(recordings.length)]!, rand);
      const input = join(work, `${seed}.in`);
      writeFileSync(input, bytes);
      const inspect = await runPvrlink(["inspect", input, "--json"]);
      expect([seed, inspect.code, inspect.stderr]).toEqual([seed, 0, ""]);
      expect(typeof JSON.parse(inspect.stdout).counts.pic).toBe("number");
      const split = await runPvrlink(["split", input, "--out", join(work, `${seed}.parts`)]);
      expect([seed, split.code, split.stderr]).toEqual([seed, 0, ""]);
      const merge = await runPvrlink([
        "merge",
        join(work, `${seed}.parts`),
        "--out",
        join(work, `${seed}.out`),
      ]);
      expect([seed, merge.code, merge.stderr]).toEqual([seed, 0, ""]);
      expect([seed, Buffer.from(readFileSync(join(work, `${seed}.out`))).equals(bytes)]).toEqual([
        seed,
        true,
      ]);
    }
  });
});
