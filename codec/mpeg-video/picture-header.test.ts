/** @module Tests for parsePictureHeader() and peekPictureCodingType(). */
import { describe, expect, test } from "bun:test";
import { pictureHeader } from "../../test/support/synthetic-video-stream.ts";
import { CodecError } from "../codec-error.ts";
import { parsePictureHeader, peekPictureCodingType } from "./picture-header.ts";

describe("parsePictureHeader()", () => {
  const valid = [
    [1, "I", 8, 0, 0],
    [2, "P", 9, 7, 0],
    [3, "B", 9, 7, 7],
    [4, "D", 8, 0, 0],
  ] as const;
  for (const [codingType, type, length, forward, backward] of valid) {
    test(`parsePictureHeader() reads type ${codingType} as ${type}`, () => {
      const h = parsePictureHeader(pictureHeader({ codingType, temporalReference: 1023, vbvDelay: 1234 }), 0);
      expect(h).toMatchObject({
        offset: 0,
        length,
        codingType,
        type,
        temporalReference: 1023,
        vbvDelay: 1234,
      });
      expect(h.forwardFCode).toBe(forward);
      expect(h.backwardFCode).toBe(backward);
    });
  }

  test("parsePictureHeader() skips extra_information_picture bytes", () => {
    const h = parsePictureHeader(pictureHeader({ codingType: 1, extraInformation: [0xaa, 0xbb] }), 0);
    expect(h.length).toBe(4 + Math.ceil((29 + 9 * 2 + 1) / 8));
  });

  const rejects: [string, Uint8Array, string, string?][] = [
    [
      "type 0",
      pictureHeader({ codingType: 0 }),
      "ERR_PICTURE_TYPE",
      "Cannot parse picture header: picture_coding_type 0 is forbidden",
    ],
    ["type 5", pictureHeader({ codingType: 5 }), "ERR_PICTURE_TYPE", "picture_coding_type 5 is reserved"],
    ["type 6", pictureHeader({ codingType: 6 }), "ERR_PICTURE_TYPE"],
    ["type 7", pictureHeader({ codingType: 7 }), "ERR_PICTURE_TYPE"],
    ["forward_f_code 0", pictureHeader({ codingType: 2, forwardFCode: 0 }), "ERR_PICTURE_F_CODE"],
    ["backward_f_code 0", pictureHeader({ codingType: 3, backwardFCode: 0 }), "ERR_PICTURE_F_CODE"],
    ["truncation before the type", pictureHeader().subarray(0, 5), "ERR_PICTURE_TRUNCATED"],
    ["truncation in vbv_delay", pictureHeader().subarray(0, 6), "ERR_PICTURE_TRUNCATED"],
    [
      "too much extra information",
      pictureHeader({ extraInformation: new Array(257).fill(1) }),
      "ERR_PICTURE_EXTRA",
    ],
    ["a slice start code", new Uint8Array([0, 0, 1, 1, 0, 0x08, 0xff, 0xff]), "ERR_START_CODE"],
  ];
  for (const [name, bytes, code, message] of rejects) {
    test(`parsePictureHeader() rejects ${name}`, () => {
      expect(() => parsePictureHeader(bytes, 0)).toThrow(CodecError);
      expect(() => parsePictureHeader(bytes, 0)).toThrow(expect.objectContaining({ code, offset: 0 }));
      if (message) expect(() => parsePictureHeader(bytes, 0)).toThrow(message);
    });
  }
});

describe("peekPictureCodingType()", () => {
  test("peekPictureCodingType() needs only the first 13 bits", () => {
    const h = pictureHeader({ codingType: 1 });
    expect(peekPictureCodingType(h, 0, 6)).toBe(1);
    expect(peekPictureCodingType(h, 0, 5)).toBe(-1);
    expect(peekPictureCodingType(pictureHeader({ codingType: 7 }), 0)).toBe(7);
  });
});
