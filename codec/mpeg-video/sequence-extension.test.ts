/** @module Tests for parseSequenceExtension(): MPEG-2 sequence fields and rejections. */
import { describe, expect, test } from "bun:test";
import { sequenceExtension } from "../../test/support/synthetic-video-stream.ts";
import { CodecError } from "../codec-error.ts";
import { parseSequenceExtension, SEQUENCE_EXTENSION_BYTES } from "./sequence-extension.ts";

describe("parseSequenceExtension()", () => {
  const valid = [
    ["interlaced 4:2:0", { progressiveSequence: false, chromaFormat: 1, lowDelay: false }],
    ["progressive low delay", { progressiveSequence: true, chromaFormat: 1, lowDelay: true }],
    ["4:2:2 with size extensions", { chromaFormat: 2, horizontalSizeExtension: 1, verticalSizeExtension: 2 }],
  ] as const;
  for (const [name, fields] of valid) {
    test(`parseSequenceExtension() reads ${name}`, () => {
      const x = parseSequenceExtension(sequenceExtension(fields), 0);
      expect(x).toMatchObject({
        offset: 0,
        length: SEQUENCE_EXTENSION_BYTES,
        profileAndLevel: 0x48,
        ...fields,
      });
    });
  }

  const rejects: [string, Uint8Array, string][] = [
    ["another extension id", sequenceExtension({ id: 8 }), "ERR_EXTENSION_ID"],
    ["chroma_format 0", sequenceExtension({ chromaFormat: 0 }), "ERR_SEQUENCE_EXTENSION_CHROMA"],
    ["marker bit 0", sequenceExtension({ marker: 0 }), "ERR_SEQUENCE_EXTENSION_MARKER"],
    ["truncation", sequenceExtension().subarray(0, 7), "ERR_SEQUENCE_EXTENSION_TRUNCATED"],
    ["a GOP start code", new Uint8Array([0, 0, 1, 0xb8, 0x10, 0, 0, 0, 0, 0]), "ERR_START_CODE"],
  ];
  for (const [name, bytes, code] of rejects) {
    test(`parseSequenceExtension() rejects ${name}`, () => {
      expect(() => parseSequenceExtension(bytes, 0)).toThrow(expect.objectContaining({ code }));
      expect(() => parseSequenceExtension(bytes, 0)).toThrow(CodecError);
    });
  }
});
