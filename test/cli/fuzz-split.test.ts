/** @module Fuzz: thousands of mutated and truncated recordings through index + split + merge in-process, a few dozen through the binary. */
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fuzzInput } from "./fuzz-cases.ts";
import { runPvrlink } from "./pvrlink-process.ts";

/** In-process cases; each is a fresh seed, so a failure names the seed that reproduces it. */
const IN_PROCESS_CASES = Number(process.env.FUZZ_CASES ?? 2000);
const BINARY_CASES = 24;
/** A case that makes no progress for this long is a hang (a normal case takes well under 100 ms). */
const HANG_MS = 5000;

interface Outcome {
  failures: { seed: number; failure: string }[];
}

/**
 * Runs seeds from..to in a child `bun fuzz-cases.ts`; the child reports each seed as it starts, so a seed that
 * never finishes is killed after HANG_MS, recorded as a hang, and the run resumes after it.
 */
async function runCases(from: number, to: number, out: Outcome): Promise<void> {
  let next = from;
  while (next <= to) {
    const child = Bun.spawn(
      [process.execPath, join(import.meta.dir, "fuzz-cases.ts"), String(next), String(to)],
      {
        stdout: "pipe",
        stderr: "inherit",
      },
    );
    let current = next;
    let done = false;
    let timer: Timer | undefined;
    const arm = () => {
      clearTimeout(timer);
      timer = setTimeout(() => child.kill(), HANG_MS);
    };
    arm();
    const decoder = new TextDecoder();
    let buffered = "";
    for await (const chunk of child.stdout) {
      buffered += decoder.decode(chunk, { stream: true });
      for (let nl = buffered.indexOf("\n"); nl >= 0; nl = buffered.indexOf("\n")) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        if (line.startsWith("start ")) {
          current = Number(line.slice(6));
          arm();
        } else if (line === "done") done = true;
        else out.failures.push(JSON.parse(line));
      }
    }
    clearTimeout(timer);
    const code = await child.exited;
    if (done && code === 0) return;
    const { source } = fuzzInput(current);
    out.failures.push({
      seed: current,
      failure: `${source}: ${code === 0 ? "exited early" : `hung or crashed (exit ${code})`}`,
    });
    next = current + 1;
  }
}

describe("fuzz index + split + merge", () => {
  test(`${IN_PROCESS_CASES} mutated recordings in-process: no escaping exception, no hang, byte-exact, I-pictures protected`, async () => {
    const out: Outcome = { failures: [] };
    await runCases(1, IN_PROCESS_CASES, out);
    // Grouped by what failed (digits folded), first seeds of each: one run tells the owners everything.
    const groups = new Map<string, number[]>();
    for (const f of out.failures) {
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

  test(`${BINARY_CASES} mutated recordings through the binary: exit 0 and byte-exact`, async () => {
    for (let seed = 100_001; seed < 100_001 + BINARY_CASES; seed++) {
      const { bytes } = fuzzInput(seed);
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
  }, 60_000);
});
