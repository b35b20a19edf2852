import { describe, expect, test } from "bun:test";
import { expectCodecError } from "../../test/support/expect-codec-error.ts";
import { tsPacket } from "../../test/support/synthetic-container-streams.ts";
import { parseAdaptationField, parseTsPacketHeader } from "./ts-packet.ts";

describe("parseTsPacketHeader()", () => {
  const full = new Uint8Array(184).fill(0xaa);
  const valid: [string, Uint8Array, object][] = [
    [
      "reads PID, PUSI and counter",
      tsPacket(0x1011, full, { pusi: true, cc: 9 }),
      {
        pid: 0x1011,
        payloadUnitStart: true,
        continuityCounter: 9,
        hasPayload: true,
        hasAdaptationField: false,
      },
    ],
    [
      "reads transport_error_indicator",
      tsPacket(0x100, full, { tei: true }),
      { transportError: true, payloadUnitStart: false },
    ],
    ["reads scrambling control", tsPacket(0x100, full, { scrambling: 2 }), { scrambling: 2 }],
    [
      "reads an adaptation field without payload",
      tsPacket(0x100, full, { adaptationOnly: true }),
      { adaptationFieldControl: 2, hasPayload: false, hasAdaptationField: true },
    ],
    [
      "reads adaptation field plus payload",
      tsPacket(0x100, full.subarray(0, 100)),
      { adaptationFieldControl: 3, hasPayload: true },
    ],
  ];
  for (const [name, bytes, want] of valid)
    test(name, () => expect(parseTsPacketHeader(bytes, 0)).toMatchObject(want));

  const reserved = tsPacket(0x100, full);
  reserved[3] = reserved[3]! & 0xcf;
  const invalid: [string, Uint8Array, string][] = [
    ["rejects fewer than 4 bytes", new Uint8Array([0x47, 0, 0]), "ERR_TS_TRUNCATED"],
    ["rejects a missing sync byte", new Uint8Array([0x48, 0, 0, 0x10]), "ERR_TS_SYNC"],
    ["rejects adaptation_field_control 00", reserved, "ERR_TS_HEADER"],
  ];
  for (const [name, bytes, code] of invalid)
    test(name, () => expectCodecError(() => parseTsPacketHeader(bytes, 0), code));
});

describe("parseAdaptationField()", () => {
  const pcrField = new Uint8Array([7, 0x50, 0x12, 0x34, 0x56, 0x78, 0x80 | 0x7e | 0x01, 0x2c]);
  const valid: [string, Uint8Array, number, object][] = [
    ["reads an empty field", new Uint8Array([0]), 3, { length: 0, discontinuity: false, pcr: undefined }],
    ["reads discontinuity_indicator", new Uint8Array([1, 0x80]), 3, { length: 1, discontinuity: true }],
    [
      "reads random_access_indicator and PCR",
      pcrField,
      3,
      { randomAccess: true, pcr: (0x12345678 * 2 + 1) * 300 + 0x12c },
    ],
    [
      "accepts 183 bytes without payload",
      new Uint8Array([183, 0, ...new Array(182).fill(0xff)]),
      2,
      { length: 183 },
    ],
  ];
  for (const [name, bytes, afc, want] of valid) {
    test(name, () => expect(parseAdaptationField(bytes, 0, afc, bytes.length)).toMatchObject(want));
  }
  const invalid: [string, Uint8Array, number][] = [
    ["rejects 183 bytes with payload", new Uint8Array([183, 0, ...new Array(182).fill(0xff)]), 3],
    ["rejects less than 183 bytes without payload", new Uint8Array([10, 0, ...new Array(9).fill(0xff)]), 2],
    ["rejects a length past the packet", new Uint8Array([20, 0, 0]), 3],
    ["rejects a PCR flag without room for the PCR", new Uint8Array([3, 0x10, 0, 0]), 3],
    ["rejects a packet ending before the length", new Uint8Array([]), 3],
  ];
  for (const [name, bytes, afc] of invalid) {
    test(name, () =>
      expectCodecError(() => parseAdaptationField(bytes, 0, afc, bytes.length), "ERR_TS_ADAPTATION_FIELD"),
    );
  }
});
