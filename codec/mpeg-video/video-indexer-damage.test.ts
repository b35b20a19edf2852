/** @module VideoIndexer on damaged and unusual streams: each case names the error code and what survives. */
import { describe, expect, test } from "bun:test";
import {
  gopHeader,
  pictureCodingExtension,
  pictureHeader,
  SEQUENCE_END,
  type SyntheticGop,
  sequenceExtension,
  sequenceHeader,
  slice,
  syntheticStream,
} from "../../test/support/synthetic-video-stream.ts";
import { MAX_INDEX_ERRORS } from "../capped-errors.ts";
import { indexVideoElementaryStream } from "./index-video-elementary-stream.ts";

const cat = (...parts: Uint8Array[]) => new Uint8Array(Buffer.concat(parts));
const types = (bytes: Uint8Array) =>
  indexVideoElementaryStream(bytes)
    .pictures.map((p) => p.type)
    .join("");
const codes = (bytes: Uint8Array) => indexVideoElementaryStream(bytes).errors.map((e) => e.code);

const IPB: SyntheticGop = { pictures: [{ type: "I" }, { type: "P" }, { type: "B" }, { type: "B" }] };
/** Sequence + GOP headers, then one picture of the given header bytes with 2 slices. */
const head = () => cat(sequenceHeader(), sequenceExtension(), gopHeader());
const pic = (header: Uint8Array, ext = pictureCodingExtension()) => cat(header, ext, slice(1), slice(2));

describe("VideoIndexer on synthetic streams", () => {
  test("indexVideoElementaryStream() indexes a clean synthetic MPEG-2 stream without errors", () => {
    const ix = indexVideoElementaryStream(syntheticStream([IPB, IPB]));
    expect(ix.errors).toEqual([]);
    expect(ix.pictures.map((p) => `${p.type}${p.gop}`).join(" ")).toBe("I0 P0 B0 B0 I1 P1 B1 B1");
    expect(ix.counts).toEqual({ seq: 2, gop: 2, pic: 8, I: 2, P: 2, B: 4, D: 0 });
    expect([ix.format, ix.width, ix.height]).toEqual(["mpeg2", 352, 288]);
  });

  test("indexVideoElementaryStream() reads MPEG-1 with D pictures", () => {
    const ix = indexVideoElementaryStream(syntheticStream([{ pictures: [{ type: "D" }, { type: "D" }] }], 1));
    expect([ix.format, ix.counts.D, ix.errors.length]).toEqual(["mpeg1", 2, 0]);
  });

  test("indexVideoElementaryStream() adds the sequence extension's size bits", () => {
    const ix = indexVideoElementaryStream(
      cat(
        sequenceHeader({ horizontalSize: 0x100 }),
        sequenceExtension({ horizontalSizeExtension: 1 }),
        gopHeader(),
      ),
    );
    expect(ix.width).toBe(0x1100);
  });

  const fieldCases: [string, string[], string, string[]][] = [
    ["I top + I bottom", ["I:top", "I:bottom"], "0+1", []],
    ["I bottom + P top", ["I:bottom", "P:top"], "0+1", []],
    ["B top + B bottom, then a frame", ["B:top", "B:bottom", "P:frame"], "0+1 2", []],
    ["top + top", ["I:top", "I:top", "I:bottom"], "0 1+2", ["ERR_FIELD_UNPAIRED"]],
    ["a field before a frame", ["I:top", "P:frame"], "0 1", ["ERR_FIELD_UNPAIRED"]],
    ["I then B fields", ["I:top", "B:bottom"], "0 1", ["ERR_FIELD_UNPAIRED", "ERR_FIELD_UNPAIRED"]],
    ["a last field without partner", ["P:frame", "I:top"], "0 1", ["ERR_FIELD_UNPAIRED"]],
  ];
  for (const [name, pictures, frames, errors] of fieldCases) {
    test(`VideoIndexer pairs fields: ${name}`, () => {
      const gop: SyntheticGop = {
        pictures: pictures.map((s) => {
          const [type, structure] = s.split(":") as ["I" | "P" | "B", "top" | "bottom" | "frame"];
          return { type, structure, temporalReference: 0 };
        }),
      };
      const ix = indexVideoElementaryStream(syntheticStream([gop]));
      expect(ix.frames.map((f) => (f.second >= 0 ? `${f.first}+${f.second}` : `${f.first}`)).join(" ")).toBe(
        frames,
      );
      expect(ix.errors.map((e) => e.code)).toEqual(errors);
      expect(ix.pictures.map((p) => p.structure)).toEqual(pictures.map((s) => s.split(":")[1]) as never);
    });
  }

  test("VideoIndexer reports a field left open by a GOP header", () => {
    const bytes = cat(
      head(),
      pic(pictureHeader(), pictureCodingExtension({ pictureStructure: 1 })),
      gopHeader(),
      pic(pictureHeader({ codingType: 1 }), pictureCodingExtension({ pictureStructure: 2 })),
    );
    const ix = indexVideoElementaryStream(bytes);
    expect(ix.errors.map((e) => [e.code, e.offset])).toEqual([
      ["ERR_FIELD_UNPAIRED", head().length],
      ["ERR_FIELD_UNPAIRED", bytes.length - pic(pictureHeader()).length],
    ]);
  });
});

describe("VideoIndexer on damaged streams", () => {
  test("VideoIndexer drops a picture with picture_coding_type 0 and keeps its neighbours", () => {
    const bad = pic(pictureHeader({ codingType: 0 }));
    const bytes = cat(head(), pic(pictureHeader()), bad, pic(pictureHeader({ codingType: 2 })));
    const ix = indexVideoElementaryStream(bytes);
    const badAt = head().length + pic(pictureHeader()).length;
    expect(ix.pictures.map((p) => [p.type, p.offset, p.length])).toEqual([
      ["I", head().length, badAt - head().length],
      ["P", badAt + bad.length, bytes.length - badAt - bad.length],
    ]);
    // The bad picture's bytes [badAt, badAt + bad.length) belong to no picture (they travel directly).
    expect(ix.errors.map((e) => [e.code, e.offset])).toEqual([
      ["ERR_PICTURE_TYPE", badAt],
      ["ERR_ES_ORPHAN_SLICE", badAt + bad.length - 2 * slice(1).length],
    ]);
    expect(ix.errors[0]!.message).toBe("Cannot parse picture header: picture_coding_type 0 is forbidden");
  });

  test("VideoIndexer keeps a damaged header that still says I as an I-picture", () => {
    // Two header bytes survive (13 bits: temporal_reference and type), then a slice start code cuts it.
    const cut = pictureHeader({ codingType: 1, temporalReference: 5 }).subarray(0, 6);
    const bytes = cat(head(), cut, slice(1), slice(2));
    const ix = indexVideoElementaryStream(bytes);
    expect(ix.pictures.map((p) => [p.type, p.offset, p.length, p.temporalReference])).toEqual([
      ["I", head().length, bytes.length - head().length, 5],
    ]);
    expect(ix.errors.map((e) => e.code)).toEqual(["ERR_PICTURE_TRUNCATED", "ERR_PICTURE_EXTENSION_MISSING"]);
  });

  test("VideoIndexer does not keep a damaged P header", () => {
    const bytes = cat(head(), pic(pictureHeader({ codingType: 2, forwardFCode: 0 })));
    expect(types(bytes)).toBe("");
    expect(codes(bytes)).toEqual(["ERR_PICTURE_F_CODE", "ERR_ES_ORPHAN_SLICE"]);
  });

  const cases: [string, Uint8Array, string, string[]][] = [
    [
      "a stream that starts mid-GOP, inside slice data",
      syntheticStream([IPB]).subarray(pic(pictureHeader()).length + head().length + 30),
      "PBB",
      ["ERR_ES_LEADING_BYTES", "ERR_ES_NO_SEQUENCE_HEADER"],
    ],
    ["garbage without any start code", new Uint8Array(5000).fill(0x77), "", ["ERR_ES_NO_START_CODE"]],
    ["an empty stream", new Uint8Array(0), "", []],
    [
      "a picture without slices",
      cat(head(), pictureHeader(), pictureCodingExtension(), SEQUENCE_END),
      "I",
      ["ERR_PICTURE_EMPTY"],
    ],
    [
      "a missing picture coding extension",
      cat(head(), pictureHeader(), slice(1)),
      "I",
      ["ERR_PICTURE_EXTENSION_MISSING"],
    ],
    [
      "picture_structure 0",
      cat(head(), pic(pictureHeader(), pictureCodingExtension({ pictureStructure: 0 }))),
      "I",
      ["ERR_PICTURE_STRUCTURE"],
    ],
    [
      "a GOP marker bit of 0",
      cat(sequenceHeader(), sequenceExtension(), gopHeader({ marker: 0 }), pic(pictureHeader())),
      "I",
      ["ERR_GOP_MARKER"],
    ],
    [
      "a sequence header with frame rate 0",
      cat(sequenceHeader({ frameRateCode: 0 }), gopHeader(), pic(pictureHeader())),
      "I",
      ["ERR_SEQUENCE_FRAME_RATE"],
    ],
    [
      "a truncated sequence header",
      cat(sequenceHeader().subarray(0, 8), gopHeader(), pic(pictureHeader())),
      "I",
      ["ERR_SEQUENCE_TRUNCATED"],
    ],
    [
      "a reserved start code",
      cat(head(), pic(pictureHeader()), new Uint8Array([0, 0, 1, 0xb0])),
      "I",
      ["ERR_ES_RESERVED_START_CODE"],
    ],
    [
      "a system start code",
      cat(head(), new Uint8Array([0, 0, 1, 0xba]), pic(pictureHeader())),
      "I",
      ["ERR_ES_SYSTEM_START_CODE"],
    ],
    [
      "a sequence_error_code",
      cat(head(), pic(pictureHeader()), new Uint8Array([0, 0, 1, 0xb4])),
      "I",
      ["ERR_ES_SEQUENCE_ERROR"],
    ],
    [
      "a stream cut inside a start code",
      cat(head(), pic(pictureHeader()), new Uint8Array([0, 0, 1])),
      "I",
      ["ERR_ES_TRUNCATED"],
    ],
    [
      "a stream cut inside a picture header",
      cat(head(), pictureHeader().subarray(0, 5)),
      "",
      ["ERR_PICTURE_TRUNCATED"],
    ],
  ];
  for (const [name, bytes, want, errors] of cases) {
    test(`VideoIndexer survives ${name}`, () => {
      const ix = indexVideoElementaryStream(bytes);
      expect(ix.pictures.map((p) => p.type).join("")).toBe(want);
      expect(ix.errors.map((e) => e.code)).toEqual(errors);
      for (const e of ix.errors) {
        expect(e.offset).toBeGreaterThanOrEqual(0);
        expect(e.offset).toBeLessThanOrEqual(bytes.length);
        expect(e.message.length).toBeGreaterThan(10);
      }
    });
  }

  test("VideoIndexer resumes at the next sequence header after a truncated stream is glued to a new one", () => {
    const one = syntheticStream([IPB]);
    const bytes = cat(one.subarray(0, 200), syntheticStream([IPB]));
    expect(types(bytes).endsWith("IPBB")).toBe(true);
  });

  test("VideoIndexer caps recorded errors and says how many more there were", () => {
    const reserved = new Uint8Array((MAX_INDEX_ERRORS + 50) * 4);
    for (let i = 0; i < reserved.length; i += 4) reserved.set([0, 0, 1, 0xb1], i);
    const ix = indexVideoElementaryStream(reserved);
    expect(ix.errors.length).toBe(MAX_INDEX_ERRORS + 1);
    expect(ix.errors.at(-1)).toMatchObject({ code: "ERR_ES_TOO_MANY_ERRORS" });
    expect(ix.errors.at(-1)!.message).toStartWith("50 more errors");
  });

  test("VideoIndexer.push() after end() is a usage error", () => {
    const ix = indexVideoElementaryStream(new Uint8Array(0));
    expect(() => ix.push(new Uint8Array(1))).toThrow(TypeError);
  });
});
