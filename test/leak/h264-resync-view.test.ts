/** @module What the H.264-aware re-synchronising attempt rebuilds of the direct channel: cbcs 1:9 no better than grey against it and against ffmpeg, seed better against both. */
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CONTENT, FPS } from "../../bench/leak.ts";
import { measureH264Content } from "../../bench/leak-h264.ts";
import { MAX_VISIBLE_SHARE } from "../../bench/lib/leak-metrics.ts";

const dir = await mkdtemp(join(tmpdir(), "pvrlink-leak-h264-resync-"));
afterAll(() => rm(dir, { recursive: true, force: true }));

/** 1 s (25 frames, two GOPs): the attempt decodes one candidate slice per offset tried, ~1 ms each. */
const SECONDS = 1;
const MANDELBROT = CONTENT.find((c) => c.name === "mandelbrot")!;

describe("H.264 eavesdropper's view by the re-synchronising attempt (docs/security.md)", () => {
  for (const entropy of ["cavlc", "cabac"] as const) {
    test(`the attempt's view of mandelbrot (${entropy}): cbcs 1:9 no better than grey to it and to ffmpeg, seed better to both`, async () => {
      const r = await measureH264Content(MANDELBROT, entropy, {
        dir: join(dir, entropy),
        seconds: SECONDS,
        resync: {},
      });
      expect(r.frames).toBeGreaterThanOrEqual(SECONDS * FPS - 2);
      const seed = r.modes.find((m) => m.mode === "seed")!;
      const cbcs = r.modes.find((m) => m.mode === "pattern cbcs 1:9")!;
      // The attempt ran: it tried offsets in every clear run after an encrypted block.
      expect(cbcs.resync!.stats.runs).toBeGreaterThan(100);
      expect(cbcs.resync!.stats.candidates).toBeGreaterThan(cbcs.resync!.stats.runs);
      expect(cbcs.visible / cbcs.scores.length).toBeLessThanOrEqual(MAX_VISIBLE_SHARE);
      expect(cbcs.resync!.visible / cbcs.resync!.scores.length).toBeLessThanOrEqual(MAX_VISIBLE_SHARE);
      // The test can fail the other way: seed's content is there to be seen by both.
      expect(seed.visible / seed.scores.length).toBeGreaterThan(0.5);
      expect(seed.resync!.visible / seed.resync!.scores.length).toBeGreaterThan(0.5);
    }, 900_000);
  }
});
