/** @module A send's progress through a pseudo-terminal at 60, 80 and 120 columns: one line updated in place, never wrapped, one final line. */
import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { ROOT } from "../support/compiled-binary.ts";
import { binary } from "../support/e2e-stage.ts";
import { Tap } from "../support/recording-tap.ts";
import { aliceAndBobStage } from "./alice-and-bob-stage.ts";
import { screenOf } from "./terminal-screen.ts";

const SAMPLE = join(ROOT, "testdata/containers/ps-mpeg2.mpg");
const cluster = aliceAndBobStage();

/** Alice sends the sample to bob on a terminal `columns` wide, the direct channel slowed so the bar moves. */
async function sendOnTerminal(columns: number) {
  await using tap = await Tap.start(cluster().recorder("bob").direct, 60_000);
  const args = ["send", SAMPLE, "--to", "bob", "--data", cluster().recorder("alice").dataDir];
  const p = Bun.spawn(
    [
      "python3",
      join(import.meta.dir, "pty-run.py"),
      String(columns),
      binary(),
      ...args,
      "--direct",
      `127.0.0.1:${tap.port}`,
    ],
    { stdout: "pipe", stderr: "pipe" },
  );
  const [output, code] = await Promise.all([new Response(p.stdout).text(), p.exited]);
  // Frames: each redraw is \r, the line, ESC[K.
  // biome-ignore lint/suspicious/noControlCharactersInRegex: ESC starts every terminal control sequence
  const frames = [...output.matchAll(/\r([^\r\n]*?)\u001b\[K/g)]
    .map((m) => m[1] as string)
    .filter((f) => f !== "");
  return { output, code, frames, screen: screenOf(output, columns) };
}

describe("send progress on a terminal", () => {
  for (const columns of [60, 80, 120]) {
    test(`at ${columns} columns the bar is one line redrawn in place, never wrapped, ending in one final line`, async () => {
      const { output, code, frames, screen } = await sendOnTerminal(columns);
      expect(code).toBe(0);
      // Log lines above the bar may wrap like any long message; the bar itself never does.
      expect(screen.lines.filter((l) => /\d%/.test(l) || l.includes("ETA"))).toHaveLength(1);
      expect(frames.length).toBeGreaterThanOrEqual(3);
      for (const f of frames) expect([...f].length).toBeLessThan(columns);
      // What stays on the screen: one progress line, the final one, and the summary below it.
      const bars = screen.lines.filter((l) => /\d%/.test(l));
      expect(bars).toHaveLength(1);
      expect(bars[0]).toContain("100%");
      expect(bars[0]).toContain("verified by bob");
      expect(screen.lines.some((l) => l.startsWith("sent: "))).toBe(true);
      expect(frames.some((f) => f.includes("waiting for bob to verify"))).toBe(true);
      if (columns >= 80) {
        // Every field at 80 columns: percentage, rate, ETA, elapsed time and the phase, in one frame.
        const full = frames.filter(
          (f) =>
            /\d+%/.test(f) &&
            /\/s/.test(f) &&
            /ETA \d+:\d\d/.test(f) &&
            /elapsed \d+:\d\d/.test(f) &&
            /\u00b7 \w/.test(f),
        );
        expect(full.length).toBeGreaterThan(0);
      }
      if (process.env.PVRLINK_TEST_VERBOSE) console.error(JSON.stringify(output));
    });
  }
});
