/** @module End to end, compiled binary: pattern-mode sends of an ES and a TS, byte-identical, with the P/B slice starts unreadable on the direct socket. */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { indexRecording } from "../../codec/container/index-recording.ts";
import { RecordingIndexer } from "../../codec/container/recording-indexer.ts";
import { Mp4PatternPlanner } from "../../codec/pattern/mp4-pattern-planner.ts";
import { PatternPlanner } from "../../codec/pattern/pattern-planner.ts";
import {
  blockRule,
  DEFAULT_H264_PATTERN_SCHEME,
  DEFAULT_PATTERN_SCHEME,
} from "../../codec/pattern/pattern-scheme.ts";
import { ridingPatternPlanners } from "../../codec/pattern/riding-pattern-planners.ts";
import type { Cluster } from "../../demo/cluster.ts";
import { complement, contains } from "../support/byte-windows.ts";
import { ROOT } from "../support/compiled-binary.ts";
import { libraryOf, sendToBob, startAliceAndBob } from "../support/e2e-stage.ts";
import { incomingLeftovers, sha256File } from "../support/left-behind.ts";
import { Tap } from "../support/recording-tap.ts";
import { summaryOf } from "../support/send-summary.ts";

let cluster: Cluster;

beforeAll(async () => {
  cluster = await startAliceAndBob();
});

afterAll(async () => {
  await cluster?.[Symbol.asyncDispose]();
});

async function sendThroughTap(file: string, extra: string[]) {
  const bob = cluster.recorder("bob");
  await using tap = await Tap.start(bob.direct);
  const run = await sendToBob(cluster, file, ["--direct", `127.0.0.1:${tap.port}`, ...extra]);
  return { run, summary: summaryOf(run.stdout), wire: tap.upstream() };
}

/**
 * What pattern mode encrypts, found independently of the sender: the codec's planner over the whole file, and
 * 16-byte windows from inside those ranges of the direct body that occur nowhere in its clear bytes.
 */
function patternWindows(bytes: Uint8Array) {
  const index = indexRecording(bytes);
  let plan: ReturnType<PatternPlanner["finish"]>;
  if (index.container === "mp4") {
    // The sender's MP4 planner, its reads served from the same bytes (codec/pattern/mp4-pattern-planner.ts).
    const indexer = new RecordingIndexer();
    indexer.push(bytes);
    for (const r of indexer.finish()) indexer.supply(r.offset, bytes.subarray(r.offset, r.offset + r.length));
    const planner = new Mp4PatternPlanner(indexer.mp4Moov!, index, { scheme: DEFAULT_H264_PATTERN_SCHEME });
    for (let needed = planner.needed(); needed.length > 0; needed = planner.needed())
      for (const r of needed) planner.supply(r.offset, bytes.slice(r.offset, r.offset + r.length));
    plan = planner.finish();
  } else if (index.format === "h264") {
    // The version 2 plan lists exactly the encrypted blocks (codec/pattern/h264-pattern-planner.ts); the sender
    // sends version 4, which encrypts the same blocks (codec/pattern/cbcs-direct-v4.test.ts).
    const riding = ridingPatternPlanners({ esPlan: false });
    riding.indexer.push(bytes);
    plan = riding.finish(index);
  } else {
    const planner = new PatternPlanner(DEFAULT_PATTERN_SCHEME);
    planner.push(bytes);
    plan = planner.finish(index);
  }
  const directBody = complement(bytes, index.protectedRanges);
  // The bytes the scheme encrypts: whole ranges, or (slice-block) its rule's 16-byte runs inside each range.
  const rule = blockRule(plan.scheme);
  const runs = plan.ranges.toArray().flatMap((r) => {
    if (rule === undefined) return [r];
    const out: Array<{ offset: number; length: number }> = [];
    for (let at = 0; at < r.length; at += rule.period)
      out.push({ offset: r.offset + at, length: Math.min(rule.crypt, r.length - at) });
    return out;
  });
  const clear = complement(directBody, runs);
  const windows: Buffer[] = [];
  for (const r of runs) {
    if (windows.length === 24) break;
    const w = Buffer.from(directBody.subarray(r.offset, r.offset + 16));
    if (r.length >= 16 && clear.indexOf(w) < 0 && !windows.some((x) => x.equals(w))) windows.push(w);
  }
  return { plan, windows };
}

describe("pattern mode (a light mode for MPEG-1/2 and H.264 video)", () => {
  const videos = [
    // version: the pattern header's (codec/pattern/pattern-header.ts): 3 for slice-block in a PS/TS, 4 for cbcs
    // in a TS, 2 for cbcs in an MP4 (planned per sample, Mp4PatternPlanner), 5 for an ES (the table in segments).
    { kind: "MPEG-2 video ES", file: join(ROOT, "testdata/es/mpeg2-gop15.m2v"), windows: 12, version: 5 },
    {
      kind: "MPEG-2 Transport Stream",
      file: join(ROOT, "testdata/containers/ts-mpeg2.ts"),
      windows: 12,
      version: 3,
    },
    {
      kind: "H.264 Transport Stream (cbcs)",
      file: join(ROOT, "testdata/containers/ts-h264.ts"),
      windows: 12,
      version: 4,
    },
    {
      kind: "H.264 MP4 (cbcs)",
      file: join(ROOT, "testdata/containers/mp4-h264.mp4"),
      windows: 12,
      version: 2,
    },
  ];
  for (const v of videos) {
    test(`send of a ${v.kind} in pattern mode arrives byte-identical with no P/B slice start readable on the direct socket; seed mode's does show them`, async () => {
      const bytes = new Uint8Array(await readFile(v.file));
      const { plan, windows } = patternWindows(bytes);
      expect(plan.supported).toBe(true);
      expect(windows.length).toBeGreaterThanOrEqual(v.windows);

      const pattern = await sendThroughTap(v.file, ["--protection", "pattern"]);
      expect(pattern.run.code).toBe(0);
      expect(pattern.summary.ok).toBe(true);
      expect(pattern.summary.protection).toBe("pattern");
      expect(pattern.summary.patternBytes).toBe(plan.encryptedBytes);
      expect(pattern.run.stdout).toContain("P/B slices encrypted (pattern)");
      for (const w of windows) expect(contains(pattern.wire, w)).toBe(false);
      const magic = Buffer.from(pattern.wire).indexOf("PVRPATRN");
      expect(magic).toBeGreaterThan(0);
      expect(pattern.wire[magic + 8]).toBe(v.version);

      const seed = await sendThroughTap(v.file, ["--protection", "seed"]);
      expect(seed.run.code).toBe(0);
      expect(seed.summary.protection).toBe("seed");
      for (const w of windows) expect(contains(seed.wire, w)).toBe(true);

      // The second send is the same content: verified, and filed once (issue 19 item 8).
      expect(seed.summary.alreadyHeld).toBe(true);
      const sha = await sha256File(v.file);
      const copies = (await libraryOf(cluster, "bob")).filter((r) => r.sha256 === sha);
      expect(copies.length).toBe(1);
      for (const c of copies) expect(await sha256File(c.path)).toBe(sha);
      expect(await incomingLeftovers(cluster.recorder("bob").dataDir)).toEqual([]);
    });
  }

  test("a library recording added with --protection seed goes in seed mode unless send --protection says otherwise", async () => {
    const file = join(ROOT, "testdata/es/mpeg2-gop12.m2v");
    const added = await cluster.ok([
      "library",
      "add",
      file,
      "--protection",
      "seed",
      "--data",
      cluster.recorder("alice").dataDir,
    ]);
    const id = added.split("\t")[0] ?? "";
    expect((await sendThroughTap(id, [])).summary.protection).toBe("seed");
    expect((await sendThroughTap(id, ["--protection", "pattern"])).summary.protection).toBe("pattern");
  });
});
