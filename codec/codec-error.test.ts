/** @module Tests for the codec's errors: the built-in by each code's meaning, and one way to recognise them. */
import { describe, expect, test } from "bun:test";
import { bitsExhausted, isBitsExhausted } from "./bits-exhausted.ts";
import { CodecError, codecError } from "./codec-error.ts";

describe("codecError", () => {
  const cases: [string, ErrorConstructor][] = [
    ["ERR_SPLIT_TRUNCATED", RangeError],
    ["ERR_PES_TRUNCATED", RangeError],
    ["ERR_PSI_SECTION_LENGTH", RangeError],
    ["ERR_SPLIT_RANGES", RangeError],
    ["ERR_SPLIT_PAIR", TypeError],
    ["ERR_START_CODE", TypeError],
    ["ERR_SPLIT_MAGIC", SyntaxError],
    ["ERR_PSI_CRC", SyntaxError],
    ["ERR_PICTURE_TYPE", SyntaxError],
  ];
  for (const [code, builtIn] of cases) {
    test(`codecError() makes ${code} a ${builtIn.name} that instanceof CodecError recognises`, () => {
      const e = codecError(code, "Cannot parse x: why", 7);
      expect(e).toBeInstanceOf(builtIn);
      expect(e).toBeInstanceOf(CodecError);
      expect(e).toMatchObject({
        code,
        offset: 7,
        message: "Cannot parse x: why",
        name: `Codec${builtIn.name}`,
      });
    });
  }
});

describe("bitsExhausted", () => {
  test("bitsExhausted() is a codec RangeError at the byte of the failed read, and isBitsExhausted() knows it", () => {
    const e = bitsExhausted(21, 16);
    expect(e).toBeInstanceOf(RangeError);
    expect(e).toMatchObject({ code: "ERR_BITS_EXHAUSTED", offset: 2 });
    expect(e.message).toStartWith("Cannot read at bit 21: ");
    expect(isBitsExhausted(e)).toBe(true);
    expect(isBitsExhausted(codecError("ERR_PES_TRUNCATED", "x", 0))).toBe(false);
    expect(isBitsExhausted(new RangeError("x"))).toBe(false);
  });
});
