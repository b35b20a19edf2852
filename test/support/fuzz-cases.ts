/** @module Fuzz cases for index + split + merge, run in a child process (`bun fuzz-cases.ts FROM TO`) so a hang is caught and named. */

import { readFileSync } from "node:fs";
import { isDeepStrictEqual } from "node:util";
import { indexRecording } from "../../codec/container/index-recording.ts";
import { RecordingIndexer } from "../../codec/container/recording-indexer.ts";
import type { RecordingIndex } from "../../codec/recording-index.ts";
import { mergeBytes, splitBytes } from "../../codec/split/split-bytes.ts";
import { mutate } from "./damage.ts";
import { serveWatchedCases } from "./fuzz-watchdog.ts";
import { firstUncoveredByte, iPictureFileRanges } from "./i-picture-file-ranges.ts";
import { testRecordings } from "./pvrlink-process.ts";
import { seededInts } from "./seeded-random.ts";

const paths = testRecordings();
const recordings = paths.map((p) => new Uint8Array(readFileSync(p)));

/** The mutated recording a seed stands for, and which test recording it came from. */
export function fuzzInput(seed: number): { bytes: Uint8Array; source: string; rand: (n: number) => number } {
  const rand = seededInts(seed);
  const k = rand(recordings.length);
  return { bytes: mutate(recordings[k]!, rand), source: paths[k]!.replace(/^.*\/testdata\//, ""), rand };
}

/** Streams bytes through RecordingIndexer in random chunk sizes, serving MP4 range requests from the bytes. */
function indexStreaming(bytes: Uint8Array, rand: (n: number) => number): RecordingIndex {
  const indexer = new RecordingIndexer();
  for (let at = 0; at < bytes.length; ) {
    const n = 1 + rand(rand(2) ? 64 : 40_000);
    indexer.push(bytes.subarray(at, at + n));
    at += n;
  }
  for (let round = 0, need = indexer.finish(); need.length > 0; round++, need = indexer.finish()) {
    if (round > 8) throw new Error("the indexer keeps asking for ranges");
    for (const r of need) indexer.supply(r.offset, bytes.subarray(r.offset, r.offset + r.length));
  }
  return indexer.result();
}

/** Runs one case; returns undefined when every property holds, else "stage: what failed". */
export function checkOne(seed: number): string | undefined {
  const { bytes, source, rand } = fuzzInput(seed);
  let stage = "index";
  try {
    const index = indexRecording(bytes);
    // A quarter of the cases also stream in random chunks: the index must not depend on how bytes arrive.
    if (seed % 4 === 0) {
      stage = "streaming index";
      if (!isDeepStrictEqual(indexStreaming(bytes, rand), index))
        return `${source}: streaming index differs from whole-buffer index`;
    }
    stage = "split";
    const parts = splitBytes(bytes, index.protectedRanges, index.container);
    stage = "merge";
    if (!Buffer.from(mergeBytes(parts).bytes).equals(bytes)) return `${source}: merge is not byte-identical`;
    stage = "I-picture coverage";
    if (firstUncoveredByte(iPictureFileRanges(bytes, index), index.protectedRanges) !== -1) {
      return `${source}: an I-picture byte is outside the protected ranges`;
    }
    return undefined;
  } catch (err) {
    return `${source}: ${stage} threw ${(err as Error).name}: ${(err as Error).message}`;
  }
}

// Run by the fuzz tests as `bun fuzz-cases.ts FROM TO` under runWatchedCases.
if (import.meta.main) serveWatchedCases(checkOne);
