/** @module Tests for parseGopHeader(): time code, closed_gop, broken_link and rejections. */
import { describe, expect, test } from "bun:test";
import { gopHeader } from "../../test/support/synthetic-video-stream.ts";
import { CodecError } from "../codec-error.ts";
import { GOP_HEADER_BYTES, parseGopHeader } from "./gop-header.ts";

describe("parseGopHeader()", () => {
  const valid = [
    ["closed", { closedGop: true, brokenLink: false }],
    ["open", { closedGop: false, brokenLink: false }],
    ["open with broken link", { closedGop: false, brokenLink: true }],
    ["late time code", { hours: 23, minutes: 59, seconds: 59, pictures: 59, dropFrame: true }],
  ] as const;
  for (const [name, fields] of valid) {
    test(`parseGopHeader() reads a ${name} GOP`, () => {
      const g = parseGopHeader(gopHeader(fields), 0);
      expect(g.offset).toBe(0);
      expect(g.length).toBe(GOP_HEADER_BYTES);
      expect(g.closedGop).toBe("closedGop" in fields ? fields.closedGop : true);
      expect(g.brokenLink).toBe("brokenLink" in fields ? fields.brokenLink : false);
      if ("hours" in fields) {
        expect(g.timeCode).toEqual({ dropFrame: true, hours: 23, minutes: 59, seconds: 59, pictures: 59 });
      }
    });
  }

  const rejects: [string, Uint8Array, string][] = [
    ["marker bit 0", gopHeader({ marker: 0 }), "ERR_GOP_MARKER"],
    ["hours 24", gopHeader({ hours: 24 }), "ERR_GOP_TIME_CODE"],
    ["minutes 60", gopHeader({ minutes: 60 }), "ERR_GOP_TIME_CODE"],
    ["pictures 60", gopHeader({ pictures: 60 }), "ERR_GOP_TIME_CODE"],
    ["truncation", gopHeader().subarray(0, 6), "ERR_GOP_TRUNCATED"],
    ["a sequence header start code", new Uint8Array([0, 0, 1, 0xb3, 0, 8, 0, 0x40]), "ERR_START_CODE"],
  ];
  for (const [name, bytes, code] of rejects) {
    test(`parseGopHeader() rejects ${name}`, () => {
      expect(() => parseGopHeader(bytes, 0)).toThrow(CodecError);
      expect(() => parseGopHeader(bytes, 0)).toThrow(expect.objectContaining({ code, offset: 0 }));
    });
  }
});
