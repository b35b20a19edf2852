/** @module Tests for patternDecoded(): the pattern-mode direct part decoded for the merger, its frames released once merged. */
import { afterAll, describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { indexRecording } from "../../codec/container/index-recording.ts";
import { PatternDirectEncoder } from "../../codec/pattern/pattern-direct-encoder.ts";
import { planPattern } from "../../codec/pattern/pattern-planner.ts";
import { DEFAULT_PATTERN_SCHEME } from "../../codec/pattern/pattern-scheme.ts";
import { ridingPatternPlanners } from "../../codec/pattern/riding-pattern-planners.ts";
import { concat, splitBytes } from "../../codec/split/split-bytes.ts";
import { peekSplitHeaderLength } from "../../codec/split/split-format.ts";
import { makePatternKeystream } from "../../crypto/keystream.ts";
import { patternFixtures } from "../../test/support/pattern-fixtures.ts";
import { IncomingFile } from "./incoming-file.ts";
import { patternDecoded } from "./payload-bytes.ts";
import { SplitAssembly } from "./split-assembly.ts";

const dir = mkdtempSync(join(tmpdir(), "pvrlink-payload-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;

const SESSION_KEY = new Uint8Array(32).map((_, i) => i * 5 + 3);
const SALT = new Uint8Array(16).map((_, i) => i + 40);

/** Each chunk a buffer of its own, as a DATA frame's payload is: only such a chunk can be released. */
async function* frames(bytes: Uint8Array, size: number) {
  for (let at = 0; at < bytes.length; at += size) yield bytes.slice(at, at + size);
}

/** A fixture's parts, the direct one in its pattern-mode wire form (version 1 for an ES, version 3 for a PS/TS). */
async function wireParts(bytes: Uint8Array) {
  const index = indexRecording(bytes);
  const parts = splitBytes(bytes, index.protectedRanges, index.container);
  let plan = planPattern(bytes, index, DEFAULT_PATTERN_SCHEME);
  if (index.container !== "es") {
    const riding = ridingPatternPlanners();
    riding.indexer.push(bytes);
    plan = riding.finish(index);
  }
  const enc = new PatternDirectEncoder(plan, SALT, await makePatternKeystream(SESSION_KEY, SALT));
  const sent = concat(await enc.push(parts.direct.slice()));
  enc.finish();
  return { parts, sent, version: sent[peekSplitHeaderLength(parts.direct)! + 8] };
}

describe("patternDecoded()", () => {
  // MPEG-1/2 video, what slice-block pattern mode plans (H.264's cbcs ciphers hand on blocks, not frames).
  const fixtures = patternFixtures().filter(([, bytes]) => /^mpeg[12]$/.test(indexRecording(bytes).format));
  test("the fixtures include an ES (pattern header version 1) and a PS or TS (version 3)", async () => {
    const versions = new Set<number | undefined>();
    for (const [, bytes] of fixtures) versions.add((await wireParts(bytes)).version);
    expect(versions.has(1)).toBe(true);
    expect(versions.has(3)).toBe(true);
  });

  for (const [name, bytes] of fixtures) {
    test(`patternDecoded() releases the headers' frames and hands on each body frame itself, for SplitAssembly to release once merged: ${name}`, async () => {
      const { parts, sent } = await wireParts(bytes);
      const given = new Set<Uint8Array>();
      async function* source() {
        for await (const f of frames(sent, 700)) {
          given.add(f);
          yield f;
        }
      }
      let frameItself = 0;
      async function* handedOn(decoded: AsyncIterable<Uint8Array>) {
        for await (const c of decoded) {
          if (given.has(c)) frameItself++;
          yield c;
        }
      }
      const out = await IncomingFile.create(join(dir, `f${++n}.part`));
      const assembly = new SplitAssembly(out);
      let released = 0;
      // As DirectConnection.releaseData() does: only a frame it handed out is freed (detached: every view of it
      // reads nothing after), anything else is left alone.
      const release = (c: Uint8Array) => {
        if (!given.has(c)) return;
        (c.buffer as ArrayBuffer).transfer(0);
        released++;
      };
      const results = await Promise.allSettled([
        assembly.feed("protected", frames(parts.protected, 333)),
        assembly.feed("direct", handedOn(patternDecoded(source(), SESSION_KEY, { release })), {
          release,
        }),
        assembly.finished,
      ]);
      expect(results.map((r) => r.status)).toEqual(["fulfilled", "fulfilled", "fulfilled"]);
      expect(await out.finish()).toBe(createHash("sha256").update(bytes).digest("hex"));
      expect(Buffer.from(readFileSync(out.path)).equals(bytes)).toBe(true);
      // Every frame that starts after the headers is whole body, decrypted in place, handed on and released.
      const headers = sent.length - (parts.direct.length - peekSplitHeaderLength(parts.direct)!);
      const bodyFrames = Math.ceil(sent.length / 700) - Math.ceil(headers / 700);
      expect(frameItself).toBe(bodyFrames);
      // Frames wholly inside the headers are copied out and released by patternDecoded() at once; body frames by
      // the assembly once merged, but for the last ones, which the merger may still hold when the direct part
      // ends (it waits for the protected part): those go to the collector.
      const headerFrames = Math.floor(headers / 700);
      expect(released).toBeGreaterThanOrEqual(headerFrames + bodyFrames - 2);
      expect(released).toBeLessThanOrEqual(headerFrames + bodyFrames);
    });
  }
});
