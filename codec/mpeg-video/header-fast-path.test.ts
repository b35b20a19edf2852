/** @module Differential tests: the byte-level fast paths of the video header parsers agree with the field-by-field path. */
import { describe, expect, test } from "bun:test";
import { SeededRandom } from "../../test/support/seeded-random.ts";
import { parseGopHeader, readGopHeader } from "./gop-header.ts";
import {
  parsePictureCodingExtension,
  parsePictureStructure,
  readExtension,
} from "./picture-coding-extension.ts";
import {
  parsePictureHeader,
  parsePictureType,
  pictureTemporalReference,
  readPictureHeader,
} from "./picture-header.ts";
import { parseSequenceExtension, readSequenceExtension } from "./sequence-extension.ts";
import { parseSequenceHeader, readSequenceHeader } from "./sequence-header.ts";
import {
  EXTENSION_START_CODE,
  GROUP_START_CODE,
  PICTURE_START_CODE,
  SEQUENCE_HEADER_CODE,
} from "./start-codes.ts";

/** A record, or the error's name, code, offset and message: everything a caller can observe. */
function outcome(parse: () => unknown): unknown {
  try {
    return { ok: parse() };
  } catch (e) {
    const err = e as Error & { code?: string; offset?: number };
    return { name: err.name, code: err.code, offset: err.offset, message: err.message };
  }
}

/**
 * A start code and 0-11 bytes after it (0-13 for a sequence header): mostly plausible values, often 0x00/0xFF,
 * the id nibble usually right.
 */
function randomHeader(rnd: SeededRandom, code: number, idNibble: number): Uint8Array {
  const n = rnd.below(code === SEQUENCE_HEADER_CODE ? 14 : 12);
  const b = new Uint8Array(4 + n);
  b.set([0, 0, 1, code]);
  for (let i = 4; i < b.length; i++) {
    const r = rnd.next();
    b[i] = r < 0.15 ? 0 : r < 0.3 ? 0xff : rnd.below(256);
  }
  if (code === EXTENSION_START_CODE && n > 0 && rnd.next() < 0.7)
    b[4] = (idNibble << 4) | ((b[4] as number) & 0x0f);
  if (code === SEQUENCE_HEADER_CODE && n >= 8 && rnd.next() < 0.8) {
    // Mostly valid fixed fields, so records (not only errors) are compared: aspect 1-3, frame rate 1-8, the
    // marker bit set, the matrix flags mostly clear.
    b[7] = ((1 + rnd.below(3)) << 4) | (1 + rnd.below(8));
    b[10] = (b[10] as number) | 0x20;
    if (rnd.next() < 0.7) b[11] = (b[11] as number) & 0xfc;
  }
  if (code === GROUP_START_CODE && n >= 2 && rnd.next() < 0.8) {
    b[4] = (b[4] as number) & 0xdf; // hours below 24
    b[5] = ((b[5] as number) & 0x3f) | 0x08; // minutes below 60, the marker bit set
  }
  return b;
}

describe("header fast paths", () => {
  const cases = [
    ["parsePictureHeader()", PICTURE_START_CODE, 0, parsePictureHeader, readPictureHeader],
    ["parsePictureCodingExtension()", EXTENSION_START_CODE, 8, parsePictureCodingExtension, readExtension],
    ["parseSequenceHeader()", SEQUENCE_HEADER_CODE, 0, parseSequenceHeader, readSequenceHeader],
    ["parseSequenceExtension()", EXTENSION_START_CODE, 1, parseSequenceExtension, readSequenceExtension],
    ["parseGopHeader()", GROUP_START_CODE, 0, parseGopHeader, readGopHeader],
  ] as const;
  for (const [name, code, nibble, parse, general] of cases) {
    test(`${name} gives what the field-by-field path gives on 30,000 random headers`, () => {
      const rnd = new SeededRandom(0x66617374 + code + nibble);
      let records = 0;
      for (let k = 0; k < 30_000; k++) {
        const bytes = randomHeader(rnd, code, nibble);
        const want = outcome(() => general(bytes, 0));
        expect(outcome(() => parse(bytes, 0))).toEqual(want);
        if ((want as { ok?: unknown }).ok) records++;
      }
      expect(records).toBeGreaterThan(2000); // parsed headers were compared, not just errors
    });
  }

  // The indexer's lean readers: the same field, or the same error, as the full record.
  const lean = [
    [
      "parsePictureType()",
      PICTURE_START_CODE,
      0,
      (b: Uint8Array) => parsePictureType(b, 0),
      (b: Uint8Array) => parsePictureHeader(b, 0).type,
    ],
    [
      "pictureTemporalReference()",
      PICTURE_START_CODE,
      0,
      (b: Uint8Array) => pictureTemporalReference(b, 0),
      (b: Uint8Array) => parsePictureHeader(b, 0).temporalReference,
    ],
    [
      "parsePictureStructure()",
      EXTENSION_START_CODE,
      8,
      (b: Uint8Array) => parsePictureStructure(b, 0),
      (b: Uint8Array) => parsePictureCodingExtension(b, 0).structure,
    ],
  ] as const;
  for (const [name, code, nibble, read, full] of lean) {
    test(`${name} gives the full record's field or error on 30,000 random headers`, () => {
      const rnd = new SeededRandom(0x6c65616e + code);
      let records = 0;
      for (let k = 0; k < 30_000; k++) {
        const bytes = randomHeader(rnd, code, nibble);
        const want = outcome(() => full(bytes));
        // pictureTemporalReference() reads what is there and checks nothing: compare it where the header parses.
        if (name === "pictureTemporalReference()" && !(want as { ok?: unknown }).ok) continue;
        expect(outcome(() => read(bytes))).toEqual(want);
        if ((want as { ok?: unknown }).ok) records++;
      }
      expect(records).toBeGreaterThan(2000);
    });
  }
});
