/** @module Tests for parseUserData() and parseSequenceEnd(). */
import { describe, expect, test } from "bun:test";
import { CodecError } from "../codec-error.ts";
import { parseSequenceEnd } from "./sequence-end.ts";
import { SEQUENCE_END, slice, userData } from "./synthetic-stream.ts";
import { parseUserData } from "./user-data.ts";

describe("parseUserData()", () => {
  test("parseUserData() runs to the next start code and returns a view", () => {
    const bytes = Buffer.concat([userData([0x47, 0x41, 0x39, 0x34, 0, 3]), slice(1)]);
    const u = parseUserData(bytes, 0);
    expect(u).toMatchObject({ offset: 0, length: 10, terminated: true });
    expect([...u.payload]).toEqual([0x47, 0x41, 0x39, 0x34, 0, 3]);
    expect(u.payload.buffer).toBe(bytes.buffer);
  });

  test("parseUserData() runs to the end of the input when no start code follows", () => {
    const u = parseUserData(userData([1, 2, 3]), 0);
    expect(u).toMatchObject({ length: 7, terminated: false });
  });

  test("parseUserData() rejects another start code", () => {
    expect(() => parseUserData(slice(1), 0)).toThrow(expect.objectContaining({ code: "ERR_START_CODE" }));
  });
});

describe("parseSequenceEnd()", () => {
  test("parseSequenceEnd() accepts 00 00 01 B7", () => {
    expect(parseSequenceEnd(SEQUENCE_END, 0)).toEqual({ offset: 0, length: 4 });
  });
  const rejects = [
    ["a user data code", new Uint8Array([0, 0, 1, 0xb2])],
    ["a truncated code", new Uint8Array([0, 0, 1])],
    ["no prefix", new Uint8Array([0, 1, 1, 0xb7])],
  ] as const;
  for (const [name, bytes] of rejects) {
    test(`parseSequenceEnd() rejects ${name}`, () => {
      expect(() => parseSequenceEnd(bytes, 0)).toThrow(CodecError);
    });
  }
});
