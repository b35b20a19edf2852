import { describe, expect, test } from "bun:test";
import { expectCodecError } from "../../test/support/expect-codec-error.ts";
import { programStreamMap } from "../../test/support/synthetic-container-streams.ts";
import { parseProgramStreamMap } from "./program-stream-map.ts";

describe("parseProgramStreamMap()", () => {
  const map = programStreamMap([
    { streamType: 0x02, streamId: 0xe0 },
    { streamType: 0x03, streamId: 0xc0 },
  ]);
  test("reads the elementary stream map", () => {
    expect(parseProgramStreamMap(map, 0)).toMatchObject({
      length: map.length,
      version: 1,
      streams: [
        { streamType: 0x02, streamId: 0xe0 },
        { streamType: 0x03, streamId: 0xc0 },
      ],
    });
  });
  const flipped = (at: number) => {
    const b = map.slice();
    b[at]! ^= 0x01;
    return b;
  };
  const withLength = (n: number) => {
    const b = map.slice();
    b[4] = n >> 8;
    b[5] = n & 0xff;
    return b;
  };
  const invalid: [string, Uint8Array, string][] = [
    ["rejects a flipped bit (CRC_32)", flipped(14), "ERR_PSM_CRC"],
    ["rejects a map cut short", map.subarray(0, map.length - 1), "ERR_PSM_TRUNCATED"],
    ["rejects program_stream_map_length above 1018", withLength(1019), "ERR_PSM_LENGTH"],
    ["rejects program_stream_map_length below its fixed fields", withLength(4), "ERR_PSM_LENGTH"],
    ["rejects another stream_id", new Uint8Array([0, 0, 1, 0xbd, ...map.subarray(4)]), "ERR_PSM_LENGTH"],
  ];
  for (const [name, bytes, code] of invalid)
    test(name, () => expectCodecError(() => parseProgramStreamMap(bytes, 0), code));
});
