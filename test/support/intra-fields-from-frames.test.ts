/** @module Tests for intraFieldsFromFrames(): its output indexes as field pairs; bad input is refused. */
import { describe, expect, test } from "bun:test";
import { indexVideoElementaryStream } from "../../codec/mpeg-video/index-video-elementary-stream.ts";
import { parseSequenceHeader } from "../../codec/mpeg-video/sequence-header.ts";
import { loadEsFixture } from "./es-fixtures.ts";
import { intraFieldsFromFrames } from "./intra-fields-from-frames.ts";
import { syntheticStream } from "./synthetic-video-stream.ts";

const FFMPEG = Bun.which("ffmpeg");

describe("intraFieldsFromFrames()", () => {
  test.skipIf(!FFMPEG)(
    "intraFieldsFromFrames() turns ffmpeg's intra half-height frames into paired fields",
    async () => {
      const args = ["-v", "error", "-f", "lavfi", "-i", "testsrc2=size=176x144:rate=25", "-frames:v", "8"];
      const enc = [
        "-vf",
        "separatefields",
        "-c:v",
        "mpeg2video",
        "-g",
        "1",
        "-q:v",
        "12",
        "-f",
        "rawvideo",
        "-",
      ];
      const proc = Bun.spawn([FFMPEG!, ...args, ...enc], { stdout: "pipe", stderr: "inherit" });
      const frames = new Uint8Array(await new Response(proc.stdout).arrayBuffer());
      expect(await proc.exited).toBe(0);
      const before = indexVideoElementaryStream(frames);
      expect([before.height, before.counts.pic, before.counts.gop]).toEqual([72, 8, 8]);

      const fields = intraFieldsFromFrames(frames, 2);
      const ix = indexVideoElementaryStream(fields);
      expect(ix.errors).toEqual([]);
      expect([ix.width, ix.height]).toEqual([176, 144]);
      expect(parseSequenceHeader(fields, 0).frameRateCode).toBe(3); // 50 fields/s -> 25 frames/s
      expect(ix.pictures.map((p) => p.structure)).toEqual(Array(4).fill(["top", "bottom"]).flat());
      expect(ix.pictures.map((p) => p.temporalReference)).toEqual([0, 0, 1, 1, 0, 0, 1, 1]);
      expect(ix.frames).toEqual([0, 2, 4, 6].map((first) => ({ first, second: first + 1 })));
      expect(ix.gops.length).toBe(2);
    },
  );

  test("intraFieldsFromFrames() matches the committed field fixture's shape", () => {
    const ix = indexVideoElementaryStream(loadEsFixture("mpeg2-fields.m2v"));
    expect(ix.counts).toEqual({ seq: 2, gop: 2, pic: 24, I: 24, P: 0, B: 0, D: 0 });
  });

  const refusals = [
    ["a 25 Hz input", syntheticStream([{ pictures: [{ type: "I" }, { type: "I" }] }])],
    ["predicted pictures", loadEsFixture("mpeg2-gop12.m2v")],
  ] as const;
  for (const [name, bytes] of refusals) {
    test(`intraFieldsFromFrames() refuses ${name}`, () => {
      expect(() => intraFieldsFromFrames(bytes, 6)).toThrow(TypeError);
    });
  }
});
