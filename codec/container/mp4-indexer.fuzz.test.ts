/** @module Fuzz: MP4 files with damaged moovs through the indexer, split and merge, each case under a watchdog in a child process. */
import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { runWatchedCases } from "../../test/support/fuzz-watchdog.ts";

const CASES = Number(process.env.MP4_FUZZ_CASES ?? 3000);
/** A case that makes no progress for this long is a hang (a normal case takes about a millisecond). */
const HANG_MS = 5000;
/** Seeds of test/cli's whole-recording fuzz that once hung (579: a constant-size stsz of billions of samples) or left an I-picture unprotected. */
const CLI_REGRESSION_SEEDS = [579, 97, 343, 959, 1735];
/** The codec logs nothing: anything mp4box printed to stderr is a failure. */
const WATCHDOG = { hangMs: HANG_MS, stderr: "pipe" } as const;

describe("Mp4Indexer fuzz", () => {
  test(`${CASES} MP4s with damaged moovs: no exception, no hang, no output, I-pictures protected, merge byte-exact`, async () => {
    const failures = await runWatchedCases(
      join(import.meta.dir, "../../test/support/mp4-fuzz-cases.ts"),
      1,
      CASES,
      WATCHDOG,
    );
    expect(failures.slice(0, 10)).toEqual([]);
  }, 60_000);

  for (const seed of CLI_REGRESSION_SEEDS) {
    test(`RecordingIndexer finishes test/cli fuzz seed ${seed} with every I-picture protected`, async () => {
      const failures = await runWatchedCases(
        join(import.meta.dir, "../../test/support/fuzz-cases.ts"),
        seed,
        seed,
        WATCHDOG,
      );
      expect(failures).toEqual([]);
    }, 20_000);
  }
});
