/** @module What an eavesdropper on the direct channel decodes, per content kind: pattern mode no better than flat grey, seed mode better on moving content. */
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CONTENT, type ContentResult, FPS, measureContent } from "../../bench/leak.ts";
import { MAX_VISIBLE_SHARE, scoreFrames, visibleFrames } from "../../bench/lib/leak-metrics.ts";
import { padGrey } from "../../bench/lib/leak-view.ts";
import { DEFAULT_PATTERN_SCHEME, patternSchemeName } from "../../codec/pattern/pattern-scheme.ts";

const dir = await mkdtemp(join(tmpdir(), "pvrlink-leak-test-"));
afterAll(() => rm(dir, { recursive: true, force: true }));

/** Content whose P/B pictures carry motion; the still scene's P/B pictures carry almost nothing to leak. */
const MOVING = new Set(["testsrc2", "mandelbrot", "life"]);
const PATTERN = `pattern ${patternSchemeName(DEFAULT_PATTERN_SCHEME)}`;

function share(r: ContentResult, mode: string): number {
  const m = r.modes.find((x) => x.mode === mode)!;
  return visibleFrames(m.frames, r.grey) / m.frames.length;
}

describe("eavesdropper's view (docs/security.md metric)", () => {
  for (const content of CONTENT) {
    test(`the eavesdropper's view of ${content.name}: pattern no better than grey${MOVING.has(content.name) ? ", seed better" : ""}`, async () => {
      const r = await measureContent(content, join(dir, content.name), [DEFAULT_PATTERN_SCHEME]);
      expect(r.frames).toBeGreaterThanOrEqual(90);
      const pattern = share(r, PATTERN);
      const seed = share(r, "seed");
      expect(pattern).toBeLessThanOrEqual(MAX_VISIBLE_SHARE);
      // The test must be able to fail the other way: the seed mode leak is there to be seen.
      if (MOVING.has(content.name)) expect(seed).toBeGreaterThan(0.5);
      // And the metric can say "visible": the original scored against itself is visible in every frame.
      const self = await scoreFrames(r.path, ["-i", r.path], FPS);
      expect(visibleFrames(self, r.grey)).toBe(r.frames);
    }, 60_000);
  }
});

describe("padGrey()", () => {
  const grey = new Uint8Array([0, 0, 1, 0, 0xff, 0xff, 0xaa, 0xbb]);
  const cases: Array<[string, number, number, number[] | undefined]> = [
    ["pads with zeros and writes temporal_reference 0", 10, 0, [0, 0, 1, 0, 0, 0x3f, 0xaa, 0xbb, 0, 0]],
    ["writes temporal_reference 1023", 8, 1023, [0, 0, 1, 0, 0xff, 0xff, 0xaa, 0xbb]],
    ["writes temporal_reference 5", 8, 5, [0, 0, 1, 0, 1, 0x7f, 0xaa, 0xbb]],
    ["refuses a range shorter than the picture", 7, 0, undefined],
  ];
  for (const [name, length, tr, want] of cases) {
    test(`padGrey() ${name}`, () => {
      const out = padGrey(grey, length, tr);
      expect(out === undefined ? undefined : [...out]).toEqual(want);
    });
  }
});
