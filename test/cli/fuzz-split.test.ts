/** @module Fuzz: thousands of mutated and truncated recordings through index + split + merge in-process, a few dozen through the binary. */
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fuzzInput } from "../support/fuzz-cases.ts";
import { runWatchedCases } from "../support/fuzz-watchdog.ts";
import { runPvrlink } from "../support/pvrlink-process.ts";

/** In-process cases; each is a fresh seed, so a failure names the seed that reproduces it. */
const IN_PROCESS_CASES = Number(process.env.FUZZ_CASES ?? 2000);
const BINARY_CASES = 24;
/** A case that makes no progress for this long is a hang (a normal case takes well under 100 ms). */
const HANG_MS = 5000;

describe("fuzz index + split + merge", () => {
  test(`${IN_PROCESS_CASES} mutated recordings in-process: no escaping exception, no hang, byte-exact, I-pictures protected`, async () => {
    const failures = await runWatchedCases(
      join(import.meta.dir, "../support/fuzz-cases.ts"),
      1,
      IN_PROCESS_CASES,
      {
        hangMs: HANG_MS,
        stderr: "inherit",
        describe: (seed) => fuzzInput(seed).source,
      },
    );
    // Grouped by what failed (digits folded), first seeds of each: one run tells the owners everything.
    const groups = new Map<string, number[]>();
    for (const f of failures) {
      const key = f.failure.replace(/\b\d+\b/g, "N");
      groups.set(key, [...(groups.get(key) ?? []), f.seed]);
    }
    const report = [...groups].map(
      ([k, seeds]) => `${seeds.length}x ${k} (seeds ${seeds.slice(0, 5).join(", ")})`,
    );
    expect(report).toEqual([]);
  }, 120_000);

  const work = mkdtempSync(join(tmpdir(), "pvrlink-fuzz-"));
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  test(`${BINARY_CASES} mutated recordings through the binary: inspect exits 0 (or 1 ERR_NOT_MEDIA), split and merge byte-exact`, async () => {
    for (let seed = 100_001; seed < 100_001 + BINARY_CASES; seed++) {
      const { bytes } = fuzzInput(seed);
      const input = join(work, `${seed}.in`);
      writeFileSync(input, bytes);
      const inspect = await runPvrlink(["inspect", input, "--json"]);
      // A mutation can leave nothing of MPEG video (an emptied file): inspect then says so, as ffprobe does.
      if (inspect.code === 1) {
        expect([seed, inspect.stderr]).toEqual([
          seed,
          expect.stringMatching(/^pvrlink inspect: .* \(ERR_NOT_MEDIA\)\n$/),
        ]);
      } else {
        expect([seed, inspect.code, inspect.stderr]).toEqual([seed, 0, ""]);
        expect(typeof JSON.parse(inspect.stdout).counts.pic).toBe("number");
      }
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
  }, 60_000);
});
