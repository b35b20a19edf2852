/** @module Tests for parseSequenceHeader(): fields, quantiser matrices, and every rejection code. */
import { describe, expect, test } from "bun:test";
import { sequenceHeader } from "../../test/support/synthetic-video-stream.ts";
import { CodecError } from "../codec-error.ts";
import {
  parseSequenceHeader,
  SEQUENCE_HEADER_FIXED_BYTES,
  SEQUENCE_HEADER_MAX_BYTES,
} from "./sequence-header.ts";

const ramp = Array.from({ length: 64 }, (_, i) => i + 8);

describe("parseSequenceHeader()", () => {
  test("reads size, aspect, frame rate, bit rate and buffer size", () => {
    const h = parseSequenceHeader(
      sequenceHeader({ horizontalSize: 352, verticalSize: 288, bitRateValue: 2500 }),
      0,
    );
    expect(h).toMatchObject({
      offset: 0,
      length: SEQUENCE_HEADER_FIXED_BYTES,
      horizontalSize: 352,
      verticalSize: 288,
      aspectRatioCode: 2,
      frameRateCode: 3,
      bitRateValue: 2500,
      vbvBufferSizeValue: 112,
      constrainedParameters: false,
      intraQuantiserMatrix: null,
      nonIntraQuantiserMatrix: null,
    });
  });

  const matrices = [
    ["intra only", ramp, null, SEQUENCE_HEADER_FIXED_BYTES + 64],
    ["non-intra only", null, ramp, SEQUENCE_HEADER_FIXED_BYTES + 64],
    ["both", ramp, ramp.toReversed(), SEQUENCE_HEADER_MAX_BYTES],
  ] as const;
  for (const [name, intra, nonIntra, length] of matrices) {
    test(`parseSequenceHeader() skips loaded matrices: ${name}`, () => {
      const bytes = sequenceHeader({
        intraMatrix: intra && [...intra],
        nonIntraMatrix: nonIntra && [...nonIntra],
      });
      const h = parseSequenceHeader(bytes, 0);
      expect(h.length).toBe(length);
      expect(h.length).toBe(bytes.length);
      expect(h.intraQuantiserMatrix && [...h.intraQuantiserMatrix]).toEqual(intra && [...intra]);
      expect(h.nonIntraQuantiserMatrix && [...h.nonIntraQuantiserMatrix]).toEqual(nonIntra && [...nonIntra]);
    });
  }

  test("parseSequenceHeader() honours a non-zero offset", () => {
    const bytes = new Uint8Array([9, 9, 9, ...sequenceHeader()]);
    expect(parseSequenceHeader(bytes, 3)).toMatchObject({
      offset: 3,
      horizontalSize: 720,
      verticalSize: 576,
    });
  });

  const rejects: [string, Uint8Array, string, ErrorConstructor][] = [
    ["width 0", sequenceHeader({ horizontalSize: 0 }), "ERR_SEQUENCE_SIZE", SyntaxError],
    ["height 0", sequenceHeader({ verticalSize: 0 }), "ERR_SEQUENCE_SIZE", SyntaxError],
    ["aspect ratio 0", sequenceHeader({ aspectRatioCode: 0 }), "ERR_SEQUENCE_ASPECT", SyntaxError],
    ["aspect ratio 15", sequenceHeader({ aspectRatioCode: 15 }), "ERR_SEQUENCE_ASPECT", SyntaxError],
    ["frame rate code 0", sequenceHeader({ frameRateCode: 0 }), "ERR_SEQUENCE_FRAME_RATE", SyntaxError],
    ["frame rate code 9", sequenceHeader({ frameRateCode: 9 }), "ERR_SEQUENCE_FRAME_RATE", SyntaxError],
    ["bit rate 0", sequenceHeader({ bitRateValue: 0 }), "ERR_SEQUENCE_BIT_RATE", SyntaxError],
    ["marker bit 0", sequenceHeader({ marker: 0 }), "ERR_SEQUENCE_MARKER", SyntaxError],
    [
      "a zero matrix entry",
      sequenceHeader({ intraMatrix: [...ramp.slice(0, 63), 0] }),
      "ERR_SEQUENCE_MATRIX",
      SyntaxError,
    ],
    ["truncation in the fixed part", sequenceHeader().subarray(0, 9), "ERR_SEQUENCE_TRUNCATED", RangeError],
    [
      "truncation in a matrix",
      sequenceHeader({ intraMatrix: ramp }).subarray(0, 40),
      "ERR_SEQUENCE_TRUNCATED",
      RangeError,
    ],
    [
      "a picture start code",
      new Uint8Array([0, 0, 1, 0, 1, 2, 3, 4, 5, 6, 7, 8]),
      "ERR_START_CODE",
      TypeError,
    ],
    ["fewer than 4 bytes", new Uint8Array([0, 0, 1]), "ERR_START_CODE", TypeError],
  ];
  for (const [name, bytes, code, builtIn] of rejects) {
    test(`parseSequenceHeader() rejects ${name} with ${builtIn.name} ${code}`, () => {
      let err: unknown;
      try {
        parseSequenceHeader(bytes, 0);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(CodecError);
      expect(err).toBeInstanceOf(builtIn);
      expect((err as CodecError).code).toBe(code);
      expect((err as CodecError).offset).toBe(0);
      expect((err as CodecError).message).toStartWith("Cannot parse sequence header: ");
    });
  }

  test("parseSequenceHeader() rejects an offset outside the input", () => {
    expect(() => parseSequenceHeader(sequenceHeader(), 99)).toThrow(CodecError);
    expect(() => parseSequenceHeader(sequenceHeader(), -1)).toThrow(CodecError);
  });
});
