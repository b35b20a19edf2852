/** @module What an eavesdropper's ffmpeg decodes of H.264 (CABAC and CAVLC) on the direct channel: cbcs pattern mode no better than grey, seed mode better. */
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CONTENT, FPS } from "../../bench/leak.ts";
import { measureH264Content } from "../../bench/leak-h264.ts";
import { MAX_VISIBLE_SHARE } from "../../bench/lib/leak-metrics.ts";

const dir = await mkdtemp(join(tmpdir(), "pvrlink-leak-h264-"));
afterAll(() => rm(dir, { recursive: true, force: true }));

/** 2 s is 50 frames, four GOPs: enough for the bar, modest in CI time. Moving content only: it has P/B content to leak. */
const SECONDS = 2;
const KINDS = CONTENT.filter((c) => c.name === "testsrc2" || c.name === "mandelbrot");

describe("H.264 eavesdropper's view (docs/security.md metric) by ffmpeg", () => {
  for (const content of KINDS) {
    for (const entropy of ["cabac", "cavlc"] as const) {
      test(`the eavesdropper's view of ${content.name} (${entropy}): cbcs 1:9 no better than grey, seed better`, async () => {
        const r = await measureH264Content(content, entropy, {
          dir: join(dir, content.name),
          seconds: SECONDS,
        });
        expect(r.frames).toBeGreaterThanOrEqual(SECONDS * FPS - 5);
        const seed = r.modes.find((m) => m.mode === "seed")!;
        const cbcs = r.modes.find((m) => m.mode === "pattern cbcs 1:9")!;
        expect(cbcs.share).toBeGreaterThan(0.03);
        expect(cbcs.share).toBeLessThanOrEqual(0.1);
        expect(cbcs.visible / cbcs.scores.length).toBeLessThanOrEqual(MAX_VISIBLE_SHARE);
        // The test can fail the other way: the seed view's content is there to be seen.
        expect(seed.visible / seed.scores.length).toBeGreaterThan(0.5);
      }, 60_000);
    }
  }
});
