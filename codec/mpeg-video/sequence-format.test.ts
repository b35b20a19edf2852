/** @module Tests for SequenceFormat: MPEG-1 or MPEG-2 from what follows the first sequence header, and the size. */
import { describe, expect, test } from "bun:test";
import { sequenceExtension, sequenceHeader } from "../../test/support/synthetic-video-stream.ts";
import { CodecError } from "../codec-error.ts";
import type { VideoFormat } from "../recording-index.ts";
import { SequenceFormat } from "./sequence-format.ts";

describe("SequenceFormat", () => {
  const cases: [
    string,
    (f: SequenceFormat) => void,
    { format: VideoFormat; width: number; height: number },
  ][] = [
    [
      "a sequence extension after the header makes MPEG-2 and adds the size's high bits",
      (f) => {
        f.header(sequenceHeader({ horizontalSize: 5000 & 0xfff, verticalSize: 1088 }));
        expect(f.extension(sequenceExtension({ horizontalSizeExtension: 5000 >> 12 }), 1)).toBe(true);
      },
      { format: "mpeg2", width: 5000, height: 1088 },
    ],
    [
      "another extension after the header makes MPEG-1 and is not taken",
      (f) => {
        f.header(sequenceHeader({ horizontalSize: 352, verticalSize: 288 }));
        expect(f.extension(sequenceExtension(), 2)).toBe(false);
      },
      { format: "mpeg1", width: 352, height: 288 },
    ],
    [
      "the first decision stands",
      (f) => {
        f.header(sequenceHeader());
        f.decide(false);
        f.header(sequenceHeader());
        f.extension(sequenceExtension(), 1);
      },
      { format: "mpeg1", width: 720, height: 576 },
    ],
    [
      "a coding extension in a stream joined mid-way makes MPEG-2",
      (f) => f.codingExtensionSeen(),
      { format: "mpeg2", width: 0, height: 0 },
    ],
  ];
  test.each(cases)("SequenceFormat: %s", (_name, run, want) => {
    const f = new SequenceFormat();
    run(f);
    expect({ format: f.format, width: f.width, height: f.height }).toEqual(want);
    expect(f.afterHeader).toBe(false);
  });

  test("SequenceFormat.header() marks the header seen even when it does not parse", () => {
    const f = new SequenceFormat();
    expect(() => f.header(sequenceHeader({ frameRateCode: 0 }))).toThrow(CodecError);
    expect(f.seen).toBe(true);
    expect(f.afterHeader).toBe(false);
  });
});
