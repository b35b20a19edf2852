/** @module Tests of readPatternWire(): versions 1 and 5 of one part give the eavesdropper the same body and ranges; a cut part is refused. */
import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { indexRecording } from "../../codec/container/index-recording.ts";
import { PatternDirectEncoder } from "../../codec/pattern/pattern-direct-encoder.ts";
import { PATTERN_VERSION, PATTERN_VERSION_SEGMENTED } from "../../codec/pattern/pattern-header.ts";
import { planPattern } from "../../codec/pattern/pattern-planner.ts";
import { DEFAULT_PATTERN_SCHEME } from "../../codec/pattern/pattern-scheme.ts";
import { concat, splitBytes } from "../../codec/split/split-bytes.ts";
import { peekSplitHeaderLength } from "../../codec/split/split-format.ts";
import { makePatternKeystream } from "../../crypto/keystream.ts";
import { readPatternWire } from "./pattern-wire.ts";

const KEY = new Uint8Array(32).map((_, i) => i + 1);
const SALT = new Uint8Array(16).map((_, i) => 100 + i);
const ES = new Uint8Array(readFileSync(join(import.meta.dir, "../../testdata/es/mpeg2-gop12.m2v")));

/** The pattern part (header onwards) of the ES's direct part in `version`. */
async function patternPart(version: number): Promise<Uint8Array> {
  const index = indexRecording(ES);
  const parts = splitBytes(ES, index.protectedRanges, index.container);
  const plan = planPattern(ES, index, DEFAULT_PATTERN_SCHEME);
  const enc = new PatternDirectEncoder({ ...plan, version }, SALT, await makePatternKeystream(KEY, SALT));
  const sent = concat(await enc.push(parts.direct.slice()));
  enc.finish();
  return sent.subarray(peekSplitHeaderLength(sent)!);
}

function ranges(w: ReturnType<typeof readPatternWire>): [number, number][] {
  const out: [number, number][] = [];
  w.forEachRange((offset, length) => out.push([offset, length]));
  return out;
}

describe("readPatternWire()", () => {
  test("readPatternWire() reads version 5's segments into version 1's body and ranges", async () => {
    const v1 = readPatternWire(await patternPart(PATTERN_VERSION));
    const v5 = readPatternWire(await patternPart(PATTERN_VERSION_SEGMENTED));
    expect(ranges(v1).length).toBeGreaterThan(0);
    expect(ranges(v5)).toEqual(ranges(v1));
    expect(Buffer.from(v5.body).equals(Buffer.from(v1.body))).toBe(true);
    expect(v5.scheme).toEqual(v1.scheme);
  });

  for (const version of [PATTERN_VERSION, PATTERN_VERSION_SEGMENTED])
    test(`readPatternWire() refuses a version ${version} part cut inside its header or its segments`, async () => {
      const part = await patternPart(version);
      expect(() => readPatternWire(part.subarray(0, 50))).toThrow();
      if (version === PATTERN_VERSION_SEGMENTED)
        expect(() => readPatternWire(part.subarray(0, part.length - 1))).toThrow(/cut short/);
    });
});
