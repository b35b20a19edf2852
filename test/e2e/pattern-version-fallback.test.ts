/** @module End to end, compiled binary: a callee that lists fewer pattern header versions (an older pvrlink, played by its config's patternVersions) gets the parts it cannot read sealed, the others in pattern mode; every copy byte-identical. */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import {
  PATTERN_MAGIC,
  PATTERN_VERSION,
  PATTERN_VERSION_CBCS_ES,
  PATTERN_VERSION_ES,
  PATTERN_VERSION_SEGMENTED,
} from "../../codec/pattern/pattern-header.ts";
import type { Cluster } from "../../demo/cluster.ts";
import { contains, gaps, protectedRangesOf, windowsInside } from "../support/byte-windows.ts";
import { ROOT } from "../support/compiled-binary.ts";
import { libraryOf, sendToBob, startAliceAndBob } from "../support/e2e-stage.ts";
import { incomingLeftovers, sha256File } from "../support/left-behind.ts";
import { Tap } from "../support/recording-tap.ts";
import { summaryOf } from "../support/send-summary.ts";

/**
 * What bob's ACCEPTED lists: a pvrlink from before pattern header version 4 (H.264 cbcs in a PS or TS) and
 * version 5 (the table in segments).
 */
const BOB_READS = [1, 2, 3];

let cluster: Cluster;

beforeAll(async () => {
  cluster = await startAliceAndBob();
  // bob restarts as the older pvrlink: the same daemon, its config.json listing fewer versions.
  const bob = cluster.recorder("bob");
  await bob.proc.stop("SIGTERM");
  await writeFile(join(bob.dataDir, "config.json"), JSON.stringify({ patternVersions: BOB_READS }));
  await cluster.restartRecorder("bob");
});

afterAll(async () => {
  await cluster?.[Symbol.asyncDispose]();
});

async function sendThroughTap(file: string) {
  await using tap = await Tap.start(cluster.recorder("bob").direct);
  const run = await sendToBob(cluster, file, [
    "--direct",
    `127.0.0.1:${tap.port}`,
    "--protection",
    "pattern",
  ]);
  return { run, summary: summaryOf(run.stdout), wire: tap.upstream() };
}

/** Windows of the direct body (P/B pictures) that occur nowhere in the protected part: what seed mode shows. */
function directWindows(bytes: Uint8Array): Buffer[] {
  const { ranges } = protectedRangesOf(bytes);
  const protectedBytes = Buffer.concat(ranges.map((r) => bytes.subarray(r.offset, r.offset + r.length)));
  return windowsInside(bytes, gaps(bytes.length, ranges), 12, 24, protectedBytes);
}

describe("pattern mode to a callee that reads fewer pattern header versions", () => {
  // `version`: the plan's preferred header version; `written`: what goes to bob (undefined: sealed instead).
  const cases = [
    {
      kind: "H.264 Transport Stream",
      file: join(ROOT, "testdata/containers/ts-h264.ts"),
      version: PATTERN_VERSION_CBCS_ES,
      written: undefined,
    },
    {
      kind: "MPEG-2 Transport Stream",
      file: join(ROOT, "testdata/containers/ts-mpeg2.ts"),
      version: PATTERN_VERSION_ES,
      written: PATTERN_VERSION_ES,
    },
    {
      // A version 5 plan falls back to version 1: the same rows, the table whole ahead of the body.
      kind: "MPEG-2 elementary stream",
      file: join(ROOT, "testdata/es/mpeg2-gop15.m2v"),
      version: PATTERN_VERSION_SEGMENTED,
      written: PATTERN_VERSION,
    },
  ];
  for (const c of cases) {
    const readable = c.written !== undefined;
    test(`send of an ${c.kind} (pattern header version ${c.version}) to a callee listing [${BOB_READS}] goes ${readable ? `in pattern mode, version ${c.written}` : "sealed"}, byte-identical`, async () => {
      const bytes = new Uint8Array(await readFile(c.file));
      const windows = directWindows(bytes);
      expect(windows.length).toBeGreaterThanOrEqual(6);

      const { run, summary, wire } = await sendThroughTap(c.file);
      expect(run.code).toBe(0);
      expect(summary.ok).toBe(true);
      expect(summary.route).toBe("split");
      expect(summary.fallback).toBe(false);
      const magic = Buffer.from(wire).indexOf(Buffer.from(PATTERN_MAGIC));
      if (readable) {
        expect(summary.protection).toBe("pattern");
        expect(summary.patternBytes).toBeGreaterThan(0);
        expect(magic).toBeGreaterThan(0);
        expect(wire[magic + PATTERN_MAGIC.byteLength]).toBe(c.written);
        expect(run.stdout).not.toContain("cannot read this pattern header");
      } else {
        // The summary and the log both say it: sealed, and why.
        expect(summary.protection).toBe("sealed");
        expect(summary.patternBytes).toBeUndefined();
        expect(run.stdout).toContain(`cannot read this pattern header (version ${c.version}`);
        expect(magic).toBe(-1);
        for (const w of windows) expect(contains(wire, w)).toBe(false);
      }
      const sha = await sha256File(c.file);
      const copies = (await libraryOf(cluster, "bob")).filter((r) => r.sha256 === sha);
      expect(copies.length).toBe(1);
      for (const copy of copies) expect(await sha256File(copy.path)).toBe(sha);
      expect(await incomingLeftovers(cluster.recorder("bob").dataDir)).toEqual([]);
    });
  }
});
