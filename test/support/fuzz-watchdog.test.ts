/** @module Tests of the fuzz watchdog: failures, hangs, crashes and stderr are each reported with their seed, and the run goes on. */
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runWatchedCases } from "./fuzz-watchdog.ts";

const work = mkdtempSync(join(tmpdir(), "pvrlink-watchdog-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** A child script on the real protocol: seed 2 fails, 3 hangs, 4 crashes, 5 prints to stderr. */
const script = join(work, "cases.ts");
writeFileSync(
  script,
  `import { serveWatchedCases } from ${JSON.stringify(join(import.meta.dir, "fuzz-watchdog.ts"))};
serveWatchedCases((seed) => {
  if (seed === 3) while (true) {}
  if (seed === 4) process.exit(3);
  if (seed === 5) console.error("noise");
  return seed === 2 ? "two is wrong" : undefined;
});
`,
);

describe("runWatchedCases()", () => {
  test("runWatchedCases() reports a failure, a hang and a crash by seed, and stderr output, and runs every seed", async () => {
    const failures = await runWatchedCases(script, 1, 6, {
      hangMs: 500,
      stderr: "pipe",
      describe: (seed) => `case ${seed}`,
    });
    expect(failures.map((f) => `${f.seed} ${f.failure}`)).toEqual([
      "2 two is wrong",
      "3 case 3: hung or crashed (exit 143)",
      "4 case 4: hung or crashed (exit 3)",
      // stderr is read when the child exits, so it is charged to the last seed that child ran (6), not to 5.
      "6 printed to stderr: noise\n",
    ]);
  }, 20_000);

  test("runWatchedCases() returns no failures for a clean run", async () => {
    expect(await runWatchedCases(script, 6, 8, { hangMs: 2000, stderr: "pipe" })).toEqual([]);
  }, 20_000);
});
