/**
 * @module `inspect --json` against ffprobe on every media fixture in testdata/: stream properties, the PS/TS
 * streams, per-frame pos and PTS/DTS, GOP time codes. Compared with the committed NAME.streams.json (made by
 * testdata/make-ffprobe-streams.sh), which is regenerated live and must match where ffprobe is installed.
 */
import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { RecordingIndexer } from "../codec/container/recording-indexer.ts";
import {
  compareInspectWithFfprobe,
  type FfprobeSummary,
  ffprobeSummary,
  type InspectJson,
  mediaFixtures,
  TESTDATA,
} from "../test/support/ffprobe-streams.ts";
import { inspectJson } from "./inspect-command.ts";

const FFPROBE = Bun.which("ffprobe");
if (!FFPROBE) console.warn("\n*** SKIPPING the live ffprobe regeneration: ffprobe is not installed ***\n");

function inspect(file: string): InspectJson {
  const bytes = new Uint8Array(readFileSync(join(TESTDATA, file)));
  const indexer = new RecordingIndexer({ details: true, pictureDetails: true });
  indexer.push(bytes);
  for (const r of indexer.finish()) indexer.supply(r.offset, bytes.subarray(r.offset, r.offset + r.length));
  return JSON.parse(inspectJson(indexer.result())) as InspectJson;
}

function committed(file: string): FfprobeSummary {
  return JSON.parse(readFileSync(join(TESTDATA, `${file}.streams.json`), "utf8")) as FfprobeSummary;
}

describe("inspect --json against ffprobe", () => {
  const files = mediaFixtures();
  test("every media fixture has its ffprobe summary", () => {
    expect(files.length).toBeGreaterThanOrEqual(16);
    for (const f of files) expect(committed(f).file).toBe(f);
  });

  for (const file of files) {
    test(`inspect agrees with ffprobe on ${file}`, () => {
      expect(compareInspectWithFfprobe(inspect(file), committed(file))).toEqual([]);
    });

    test.skipIf(!FFPROBE)(`the committed ffprobe summary of ${file} is what ffprobe prints now`, async () => {
      expect(await ffprobeSummary(file, FFPROBE!)).toEqual(committed(file));
    });
  }

  // The comparison itself must be able to fail: each altered summary gives exactly its mismatch.
  const altered: [string, string, (s: FfprobeSummary) => void, RegExp][] = [
    ["a PTS", "containers/ts-mpeg2.ts", (s) => (s.packets[3]!.pts! += 3600), /^frame 3 pts/],
    ["a DTS", "containers/ps-dvd.vob", (s) => (s.packets[1]!.dts! -= 1), /^frame 1 dts/],
    ["a pos", "containers/m2ts-mpeg2.m2ts", (s) => (s.packets[5]!.pos! += 192), /^frame 5 pos/],
    ["the field order", "es/mpeg2-fields.m2v", (s) => (s.streams[0]!.field_order = "tt"), /^field order/],
    ["a time code", "es/mpeg2-gop12.m2v", (s) => (s.timecodes[1]!.timecode = "00:00:01:00"), /^time code/],
    [
      "the aspect ratio",
      "containers/ts-h264.ts",
      (s) => (s.streams[0]!.display_aspect_ratio = "4:3"),
      /^display/,
    ],
    ["an audio stream", "containers/ps-mpeg2.mpg", (s) => (s.streams[1]!.id = "0x1c1"), /^streams/],
    ["the level", "containers/mp4-h264.mp4", (s) => (s.streams[0]!.level = 30), /^level/],
    ["an MP4 PTS", "containers/mp4-h264.mp4", (s) => (s.packets[1]!.pts! += 512), /^frame 1 pts/],
    [
      "an MP4 DTS before the edit list",
      "containers/mp4-h264-faststart.mp4",
      (s) => (s.packets[0]!.dts! += 1024),
      /^frame 0 dts/,
    ],
    ["the time base", "containers/mp4-h264.mp4", (s) => (s.streams[0]!.time_base = "1/90000"), /^time base/],
  ];
  for (const [what, file, alter, message] of altered) {
    test(`compareInspectWithFfprobe() reports ${what} that differs`, () => {
      const summary = committed(file);
      alter(summary);
      const problems = compareInspectWithFfprobe(inspect(file), summary);
      expect(problems).toHaveLength(1);
      expect(problems[0]).toMatch(message);
    });
  }
});
