import { describe, expect, test } from "bun:test";
import { pes1, pes2, pesRaw } from "../../test/support/synthetic-container-streams.ts";
import { CodecError } from "../codec-error.ts";
import { parsePesHeader } from "./pes-header.ts";

const payload = new Uint8Array([0, 0, 1, 0xb3, 9, 9]);

describe("parsePesHeader()", () => {
  const valid: [string, Uint8Array, Partial<ReturnType<typeof parsePesHeader>>][] = [
    [
      "reads MPEG-2 syntax without PTS",
      pes2(0xe0, payload),
      { syntax: "mpeg2", streamId: 0xe0, headerLength: 9, pts: undefined },
    ],
    [
      "reads an MPEG-2 PTS",
      pes2(0xe0, payload, { pts: 0x1_2345_6789 }),
      { headerLength: 14, pts: 0x1_2345_6789, dts: undefined },
    ],
    ["skips MPEG-2 header stuffing", pes2(0xe1, payload, { extraHeader: 7 }), { headerLength: 16 }],
    [
      "accepts PES_packet_length 0",
      pes2(0xe0, payload, { length0: true }),
      { packetLength: 0, headerLength: 9 },
    ],
    [
      "reads MPEG-1 syntax with stuffing, STD buffer and PTS",
      pes1(0xe0, payload, { stuffing: 3, pts: 90000 }),
      { syntax: "mpeg1", headerLength: 6 + 3 + 2 + 5, pts: 90000 },
    ],
    [
      "reads MPEG-1 syntax without time stamps",
      pes1(0xc0, payload),
      { syntax: "mpeg1", headerLength: 9, pts: undefined },
    ],
    [
      "gives padding no optional header",
      pesRaw(0xbe, new Uint8Array(10).fill(0xff)),
      { syntax: "none", headerLength: 6 },
    ],
    ["gives private_stream_2 no optional header", pesRaw(0xbf, payload), { syntax: "none", headerLength: 6 }],
  ];
  for (const [name, bytes, want] of valid) {
    test(name, () => {
      expect(parsePesHeader(bytes, 0)).toMatchObject(want);
    });
  }

  test("reads MPEG-2 PTS and DTS", () => {
    const b = pes2(0xe0, payload, { pts: 3600 });
    // Turn the PTS into PTS+DTS by hand: flags '11', 10 bytes of stamps.
    const withDts = new Uint8Array([
      ...b.subarray(0, 7),
      0xc0,
      10,
      0x31,
      ...b.subarray(10, 14),
      0x11,
      0,
      1,
      0,
      1,
      ...payload,
    ]);
    withDts[5] = withDts.length - 6;
    expect(parsePesHeader(withDts, 0)).toMatchObject({ pts: 3600, dts: 0, headerLength: 19 });
  });

  test("reads a header at a non-zero offset", () => {
    const b = new Uint8Array([7, 7, ...pes2(0xe0, payload)]);
    expect(parsePesHeader(b, 2)).toMatchObject({ offset: 2, headerLength: 9 });
  });

  const invalid: [string, Uint8Array, string][] = [
    ["rejects fewer than 6 bytes", new Uint8Array([0, 0, 1, 0xe0]), "ERR_PES_TRUNCATED"],
    [
      "rejects a missing start code prefix",
      new Uint8Array([0, 1, 1, 0xe0, 0, 3, 0x80, 0, 0]),
      "ERR_PES_START_CODE",
    ],
    [
      "rejects a video start code as stream_id",
      new Uint8Array([0, 0, 1, 0xb3, 0, 3, 0x80, 0, 0]),
      "ERR_PES_START_CODE",
    ],
    ["rejects PTS_DTS_flags 01", new Uint8Array([0, 0, 1, 0xe0, 0, 3, 0x80, 0x40, 0]), "ERR_PES_HEADER"],
    [
      "rejects PES_header_data_length past PES_packet_length",
      new Uint8Array([0, 0, 1, 0xe0, 0, 4, 0x80, 0, 9, 0]),
      "ERR_PES_HEADER",
    ],
    [
      "rejects a header cut off by the data",
      new Uint8Array([0, 0, 1, 0xe0, 0, 0, 0x80, 0x80, 5, 0x21]),
      "ERR_PES_TRUNCATED",
    ],
    [
      "rejects a time stamp longer than PES_header_data_length",
      new Uint8Array([0, 0, 1, 0xe0, 0, 5, 0x80, 0x80, 2, 0x21, 0]),
      "ERR_PES_HEADER",
    ],
    ["rejects 17 MPEG-1 stuffing bytes", pes1(0xe0, payload, { stuffing: 17 }), "ERR_PES_HEADER"],
    [
      "rejects an MPEG-1 header byte that is no time stamp",
      new Uint8Array([0, 0, 1, 0xe0, 0, 2, 0x05, 0]),
      "ERR_PES_HEADER",
    ],
  ];
  for (const [name, bytes, code] of invalid) {
    test(name, () => {
      let caught: unknown;
      try {
        parsePesHeader(bytes, 0);
      } catch (e) {
        caught = e;
      }
      expect(caught).toBeInstanceOf(CodecError);
      expect((caught as CodecError).code).toBe(code);
    });
  }
});
