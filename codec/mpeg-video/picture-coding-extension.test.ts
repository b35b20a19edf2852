/** @module Tests for parsePictureCodingExtension(): picture_structure and the frame/field flags. */
import { describe, expect, test } from "bun:test";
import { pictureCodingExtension } from "../../test/support/synthetic-video-stream.ts";
import { CodecError } from "../codec-error.ts";
import { parsePictureCodingExtension } from "./picture-coding-extension.ts";

describe("parsePictureCodingExtension()", () => {
  const valid = [
    [1, "top", false],
    [2, "bottom", false],
    [3, "frame", true],
  ] as const;
  for (const [pictureStructure, structure, progressiveFrame] of valid) {
    test(`parsePictureCodingExtension() reads picture_structure ${pictureStructure} as ${structure}`, () => {
      const bytes = pictureCodingExtension({
        pictureStructure,
        progressiveFrame,
        topFieldFirst: progressiveFrame,
      });
      const x = parsePictureCodingExtension(bytes, 0);
      expect(x).toMatchObject({ offset: 0, length: 9, pictureStructure, structure, progressiveFrame });
      expect(x.topFieldFirst).toBe(progressiveFrame);
      expect(x.fCode).toEqual([
        [15, 15],
        [15, 15],
      ]);
    });
  }

  test("parsePictureCodingExtension() skips composite display fields", () => {
    const x = parsePictureCodingExtension(
      pictureCodingExtension({ compositeDisplay: true, intraDcPrecision: 2 }),
      0,
    );
    expect(x).toMatchObject({ compositeDisplay: true, intraDcPrecision: 2, length: 11 });
  });

  const rejects: [string, Uint8Array, string][] = [
    ["picture_structure 0", pictureCodingExtension({ pictureStructure: 0 }), "ERR_PICTURE_STRUCTURE"],
    ["f_code 0", pictureCodingExtension({ fCode: [1, 0, 15, 15] }), "ERR_PICTURE_F_CODE"],
    ["a sequence extension", pictureCodingExtension({ id: 1 }), "ERR_EXTENSION_ID"],
    ["truncation", pictureCodingExtension().subarray(0, 7), "ERR_PICTURE_EXTENSION_TRUNCATED"],
    [
      "composite truncation",
      pictureCodingExtension({ compositeDisplay: true }).subarray(0, 9),
      "ERR_PICTURE_EXTENSION_TRUNCATED",
    ],
  ];
  for (const [name, bytes, code] of rejects) {
    test(`parsePictureCodingExtension() rejects ${name}`, () => {
      expect(() => parsePictureCodingExtension(bytes, 0)).toThrow(CodecError);
      expect(() => parsePictureCodingExtension(bytes, 0)).toThrow(
        expect.objectContaining({ code, offset: 0 }),
      );
    });
  }
});
