/** @module Tests for the codec's errors: the built-in by each code's meaning, and one way to recognise them. */
import { describe, expect, test } from "bun:test";
import { bitsExhausted, isBitsExhausted } from "./bits-exhausted.ts";
import { CodecError, CodecRangeError, CodecSyntaxError, CodecTypeError, codecError } from "./codec-error.ts";

describe("codecError", () => {
  type ErrorClass = abstract new (...args: never[]) => Error;
  const cases: [string, ErrorClass, ErrorClass][] = [
    ["ERR_SPLIT_TRUNCATED", RangeError, CodecRangeError],
    ["ERR_PES_TRUNCATED", RangeError, CodecRangeError],
    ["ERR_PSI_SECTION_LENGTH", RangeError, CodecRangeError],
    ["ERR_SPLIT_RANGES", RangeError, CodecRangeError],
    ["ERR_SPLIT_PAIR", TypeError, CodecTypeError],
    ["ERR_START_CODE", TypeError, CodecTypeError],
    ["ERR_SPLIT_MAGIC", SyntaxError, CodecSyntaxError],
    ["ERR_PSI_CRC", SyntaxError, CodecSyntaxError],
    ["ERR_PICTURE_TYPE", SyntaxError, CodecSyntaxError],
  ];
  for (const [code, builtIn, subclass] of cases) {
    test(`codecError() makes ${code} a ${builtIn.name} that instanceof CodecError recognises`, () => {
      const e = codecError(code, "Cannot parse x: why", 7);
      expect(e).toBeInstanceOf(builtIn);
      expect(e).toBeInstanceOf(subclass);
      expect(e).toBeInstanceOf(CodecError);
      expect(e).toMatchObject({ code, offset: 7, message: "Cannot parse x: why", name: subclass.name });
    });
  }

  const strangers: [string, unknown][] = [
    ["a plain RangeError", new RangeError("x")],
    ["a plain SyntaxError", new SyntaxError("x")],
    ["an object with a code", { code: "ERR_SPLIT_PAIR", offset: 0, message: "x" }],
    ["undefined", undefined],
  ];
  for (const [name, value] of strangers) {
    test(`instanceof CodecError rejects ${name}`, () => {
      expect(value instanceof CodecError).toBe(false);
    });
  }
});

describe("bitsExhausted", () => {
  test("bitsExhausted() is a CodecRangeError at the byte of the failed read, and isBitsExhausted() knows it", () => {
    const e = bitsExhausted(21, 16);
    expect(e).toBeInstanceOf(RangeError);
    expect(e).toMatchObject({ code: "ERR_BITS_EXHAUSTED", offset: 2 });
    expect(e.message).toStartWith("Cannot read at bit 21: ");
    expect(isBitsExhausted(e)).toBe(true);
    expect(isBitsExhausted(codecError("ERR_PES_TRUNCATED", "x", 0))).toBe(false);
    expect(isBitsExhausted(new RangeError("x"))).toBe(false);
  });
});
