/** @module Fuzz: MP4 files with damaged moovs through the indexer, split and merge, each case under a watchdog in a child process. */
import { describe, expect, test } from "bun:test";
import { join } from "node:path";

const CASES = Number(process.env.MP4_FUZZ_CASES ?? 3000);
/** A case that makes no progress for this long is a hang (a normal case takes about a millisecond). */
const HANG_MS = 5000;
/** Seeds of test/cli's whole-recording fuzz that once hung (579: a constant-size stsz of billions of samples) or left an I-picture unprotected. */
const CLI_REGRESSION_SEEDS = [579, 97, 343, 959, 1735];

interface Failure {
  seed: number;
  failure: string;
}

/**
 * Runs `bun script FROM TO`, which prints "start N" before each case, a JSON line per failure and "done".
 * A case silent for HANG_MS is killed, recorded with its seed as a hang, and the run resumes after it.
 */
async function runCases(script: string, from: number, to: number): Promise<Failure[]> {
  const failures: Failure[] = [];
  let next = from;
  while (next <= to) {
    const child = Bun.spawn([process.execPath, script, String(next), String(to)], {
      stdout: "pipe",
      stderr: "pipe",
    });
    let current = next;
    let done = false;
    let timer: Timer | undefined;
    const arm = () => {
      clearTimeout(timer);
      timer = setTimeout(() => child.kill(), HANG_MS);
    };
    arm();
    let buffered = "";
    const decoder = new TextDecoder();
    for await (const chunk of child.stdout) {
      buffered += decoder.decode(chunk, { stream: true });
      for (let nl = buffered.indexOf("\n"); nl >= 0; nl = buffered.indexOf("\n")) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        if (line.startsWith("start ")) {
          current = Number(line.slice(6));
          arm();
        } else if (line === "done") done = true;
        else failures.push(JSON.parse(line));
      }
    }
    clearTimeout(timer);
    const code = await child.exited;
    const stderr = await new Response(child.stderr).text();
    // The codec logs nothing: anything mp4box printed would land here.
    if (stderr.trim() !== "")
      failures.push({ seed: current, failure: `printed to stderr: ${stderr.slice(0, 200)}` });
    if (done && code === 0) break;
    failures.push({ seed: current, failure: code === 0 ? "exited early" : `hung or crashed (exit ${code})` });
    next = current + 1;
  }
  return failures;
}

describe("Mp4Indexer fuzz", () => {
  test(`${CASES} MP4s with damaged moovs: no exception, no hang, no output, I-pictures protected, merge byte-exact`, async () => {
    const failures = await runCases(join(import.meta.dir, "mp4-fuzz-cases.ts"), 1, CASES);
    expect(failures.slice(0, 10)).toEqual([]);
  }, 60_000);

  for (const seed of CLI_REGRESSION_SEEDS) {
    test(`RecordingIndexer finishes test/cli fuzz seed ${seed} with every I-picture protected`, async () => {
      const failures = await runCases(join(import.meta.dir, "../../test/cli/fuzz-cases.ts"), seed, seed);
      expect(failures).toEqual([]);
    }, 20_000);
  }
});
