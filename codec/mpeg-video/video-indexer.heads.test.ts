/**
 * @module Differential tests for picture heads: VideoIndexer with the kernel's head records against the same
 * indexer reading every start code in JavaScript, on fixtures, synthetic heads and thousands of damaged streams.
 */
import { describe, expect, test } from "bun:test";
import { esFixtureNames, loadEsFixture } from "../../test/support/es-fixtures.ts";
import { ES_MUTATIONS } from "../../test/support/es-mutations.ts";
import { SeededRandom } from "../../test/support/seeded-random.ts";
import {
  gopHeader,
  pictureCodingExtension,
  pictureHeader,
  SEQUENCE_END,
  sequenceExtension,
  sequenceHeader,
  slice,
  syntheticStream,
  userData,
} from "../../test/support/synthetic-video-stream.ts";
import {
  type PictureHeadRecord,
  pictureHeadStructure,
  pictureHeadTemporalReference,
  pictureHeadType,
} from "./picture-head.ts";
import { StartCodeScanner } from "./start-code-scanner.ts";
import { VideoIndexer } from "./video-indexer.ts";

type Kernel = "off" | "always";

/** Everything an index says, in one comparable value. */
function indexOf(chunks: Iterable<Uint8Array>, kernel: Kernel) {
  const ix = new VideoIndexer({ kernel });
  const settled: number[] = [];
  for (const c of chunks) {
    ix.push(c);
    settled.push(ix.settledOffset);
  }
  ix.end();
  return {
    format: ix.format,
    width: ix.width,
    height: ix.height,
    counts: ix.counts,
    pictures: ix.pictures,
    gops: ix.gops,
    errors: ix.errors,
    frames: ix.frames,
    settled,
  };
}

/** The picture heads and plain start codes the kernel reports for `bytes` pushed whole, heads always enabled. */
function headsOf(bytes: Uint8Array): { heads: [number, PictureHeadRecord][]; plain: number } {
  const heads: [number, PictureHeadRecord][] = [];
  let plain = 0;
  const scanner = new StartCodeScanner(() => void plain++, {
    collapseSlices: true,
    kernel: "always",
    pictureHeads: {
      enabled: () => true,
      onPictureHead: (offset, record) => void heads.push([offset, record]),
    },
  });
  scanner.push(bytes);
  return { heads, plain };
}

const sequence = () => [
  sequenceHeader({ horizontalSize: 720, verticalSize: 576 }),
  sequenceExtension(),
  gopHeader(),
];
const concat = (parts: Uint8Array[]) => new Uint8Array(Buffer.concat(parts));

describe("picture heads", () => {
  test.each(esFixtureNames().filter((n) => n.startsWith("mpeg2")))(
    "the kernel reports every picture of %s as a head with its index fields",
    (name) => {
      const bytes = loadEsFixture(name);
      const reference = indexOf([bytes], "off");
      const { heads } = headsOf(bytes);
      expect(heads.length).toBe(reference.pictures.length);
      heads.forEach(([offset, record], i) => {
        const p = reference.pictures[i]!;
        expect([offset, pictureHeadType(record), pictureHeadStructure(record)]).toEqual([
          p.offset,
          p.type,
          p.structure,
        ]);
        expect(pictureHeadTemporalReference(record)).toBe(p.temporalReference);
      });
    },
  );

  test("an MPEG-1 stream has no heads: its pictures have no coding extension", () => {
    const { heads, plain } = headsOf(loadEsFixture("mpeg1-gop15.m1v"));
    expect(heads).toEqual([]);
    expect(plain).toBeGreaterThan(0);
  });

  // Each case: the head's bytes after the sequence, GOP; whether the kernel may report it as a record.
  const cases: [string, Uint8Array[], boolean][] = [
    [
      "an I frame",
      [pictureHeader({ codingType: 1, temporalReference: 1023 }), pictureCodingExtension(), slice(1)],
      true,
    ],
    [
      "a P top field",
      [
        pictureHeader({ codingType: 2, forwardFCode: 1 }),
        pictureCodingExtension({ pictureStructure: 1 }),
        slice(1),
      ],
      true,
    ],
    [
      "a B bottom field",
      [pictureHeader({ codingType: 3 }), pictureCodingExtension({ pictureStructure: 2 }), slice(1)],
      true,
    ],
    [
      "user data and extensions before the slices",
      [
        pictureHeader(),
        pictureCodingExtension(),
        userData([1, 2]),
        concat([new Uint8Array([0, 0, 1, 0xb5, 0x70, 0, 0, 0])]),
        userData([3]),
        slice(1),
      ],
      true,
    ],
    [
      "a composite display extension",
      [pictureHeader(), pictureCodingExtension({ compositeDisplay: true }), slice(1)],
      true,
    ],
    [
      "zero stuffing before the extension",
      [pictureHeader(), new Uint8Array(7), pictureCodingExtension(), slice(1)],
      true,
    ],
    ["a D picture", [pictureHeader({ codingType: 4 }), pictureCodingExtension(), slice(1)], false],
    ["picture_coding_type 0", [pictureHeader({ codingType: 0 }), pictureCodingExtension(), slice(1)], false],
    [
      "a P picture with forward_f_code 0",
      [pictureHeader({ codingType: 2, forwardFCode: 0 }), pictureCodingExtension(), slice(1)],
      false,
    ],
    [
      "a B picture with backward_f_code 0",
      [pictureHeader({ codingType: 3, backwardFCode: 0 }), pictureCodingExtension(), slice(1)],
      false,
    ],
    [
      "extra_information_picture",
      [pictureHeader({ extraInformation: [0xaa] }), pictureCodingExtension(), slice(1)],
      false,
    ],
    [
      "a picture header cut short",
      [pictureHeader().subarray(0, 7), pictureCodingExtension(), slice(1)],
      false,
    ],
    ["no coding extension", [pictureHeader(), slice(1)], false],
    ["a sequence extension in its place", [pictureHeader(), sequenceExtension(), slice(1)], false],
    [
      "picture_structure 0",
      [pictureHeader(), pictureCodingExtension({ pictureStructure: 0 }), slice(1)],
      false,
    ],
    [
      "an f_code 0 in the extension",
      [pictureHeader(), pictureCodingExtension({ fCode: [15, 0, 15, 15] }), slice(1)],
      false,
    ],
    ["an extension cut short", [pictureHeader(), pictureCodingExtension().subarray(0, 8), slice(1)], false],
    [
      "composite display cut short",
      [pictureHeader(), pictureCodingExtension({ compositeDisplay: true }).subarray(0, 10), slice(1)],
      false,
    ],
    [
      "a GOP header before any slice",
      [pictureHeader(), pictureCodingExtension(), gopHeader(), slice(1)],
      false,
    ],
  ];

  test.each(cases)("heads(): %s", (_name, head, isRecord) => {
    const bytes = concat([...sequence(), ...head, SEQUENCE_END]);
    const { heads } = headsOf(bytes);
    expect(heads.length).toBe(isRecord ? 1 : 0);
    // Either way, the index is the one JavaScript makes reading every start code.
    expect(indexOf([bytes], "always")).toEqual(indexOf([bytes], "off"));
  });

  test("a head cut by a window's or chunk's end comes as start codes, with the same index", () => {
    const bytes = syntheticStream([
      {
        pictures: [
          { type: "I", structure: "top" },
          { type: "P", structure: "bottom" },
          { type: "B" },
          { type: "B" },
        ],
      },
    ]);
    for (let cut = 1; cut < bytes.length; cut++) {
      const chunks = [bytes.subarray(0, cut), bytes.subarray(cut)];
      expect(indexOf(chunks, "always"), `cut at ${cut}`).toEqual(indexOf(chunks, "off"));
    }
  });

  test("heads across the kernel's window edges give the same index", () => {
    // Longer than two 256 KiB windows; each shift moves every head to another place relative to the edges.
    const fields = loadEsFixture("mpeg2-fields.m2v");
    const long = concat(Array.from({ length: 10 }, () => fields));
    for (let shift = 0; shift < 48; shift += 1) {
      const bytes = concat([new Uint8Array(shift).fill(0x5a), long]);
      expect(indexOf([bytes], "always"), `shift ${shift}`).toEqual(indexOf([bytes], "off"));
    }
  });

  test("VideoIndexer gives the same index with heads as without on 2,000 damaged streams in random chunks", () => {
    const rnd = new SeededRandom(20261123);
    const seeds = esFixtureNames().map(loadEsFixture);
    const names = Object.keys(ES_MUTATIONS);
    // The head mutations twice as often: they are what this test is for.
    const weighted = [...names, "flipPictureHead", "cutPictureHead", "dropStartCode"];
    let withErrors = 0;
    for (let round = 0; round < 2000; round++) {
      let bytes = seeds[rnd.below(seeds.length)]!;
      const applied: string[] = [];
      for (let m = 0; m < 1 + rnd.below(3); m++) {
        const name = weighted[rnd.below(weighted.length)]!;
        applied.push(name);
        bytes = ES_MUTATIONS[name]!(bytes, rnd);
      }
      const reference = indexOf([bytes], "off");
      // Big chunks so the kernel searches (and heads straddle chunk ends); every chunk goes to the kernel.
      const chunks: Uint8Array[] = [];
      for (let at = 0; at < bytes.length; ) {
        const size = 1 + rnd.below(rnd.next() < 0.5 ? 64 : 20_000);
        chunks.push(bytes.subarray(at, at + size));
        at += size;
      }
      const label = `round ${round}: ${applied.join("+")}`;
      expect(indexOf([bytes], "always"), label).toEqual(reference);
      const chunked = indexOf(chunks, "always");
      expect({ ...chunked, settled: [] }, label).toEqual({ ...reference, settled: [] });
      if (reference.errors.length > 0) withErrors++;
    }
    // Most rounds must be damaged streams, or the comparison proves little.
    expect(withErrors).toBeGreaterThan(1000);
  });
});
