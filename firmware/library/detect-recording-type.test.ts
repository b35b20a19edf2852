/** @module Tests for recording-type detection, including random and truncated input. */
import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { detectRecordingType, type RecordingType } from "./detect-recording-type.ts";

const root = join(import.meta.dir, "../../testdata");

describe("detectRecordingType()", () => {
  const files: Array<[string, RecordingType]> = [
    ["containers/ts-mpeg2.ts", "ts"],
    ["containers/ts-h264.ts", "ts"],
    ["containers/m2ts-mpeg2.m2ts", "m2ts"],
    ["containers/ps-mpeg2.mpg", "ps"],
    ["containers/ps-mpeg1.mpg", "ps"],
    ["containers/mp4-h264.mp4", "mp4"],
    ["es/mpeg2-closed-gop.m2v", "es"],
    ["es/mpeg1-gop15.m1v", "es"],
  ];
  for (const [file, type] of files) {
    test(`detects ${file} as ${type}`, () => {
      expect(detectRecordingType(readFileSync(join(root, file)), true)).toBe(type);
    });
  }
  const data: Array<[string, Uint8Array]> = [
    ["an empty file", new Uint8Array(0)],
    ["text", new TextEncoder().encode("hello, this is not video\n".repeat(100))],
    ["a start code that is not a sequence header", new Uint8Array([0, 0, 1, 0xb5, 1, 2, 3])],
    ["a lone sync byte", new Uint8Array([0x47, 1, 2, 3])],
  ];
  for (const [what, bytes] of data)
    test(`files ${what} as data`, () => expect(detectRecordingType(bytes, true)).toBe("data"));
  test("never throws on 500 random or truncated inputs", () => {
    const ts = readFileSync(join(root, "containers/ts-mpeg2.ts"));
    for (let i = 0; i < 500; i++) {
      const b = i % 2 ? crypto.getRandomValues(new Uint8Array(i * 7)) : ts.subarray(0, i * 13);
      expect(["es", "ps", "ts", "m2ts", "mp4", "data"]).toContain(detectRecordingType(b, true));
    }
  });
});
