import { describe, expect, test } from "bun:test";
import { expectCodecError } from "../../test/support/expect-codec-error.ts";
import { pack1, pack2, systemHeader } from "../../test/support/synthetic-container-streams.ts";
import { parsePackHeader, parseSystemHeader } from "./pack-header.ts";

describe("parsePackHeader()", () => {
  const valid: [string, Uint8Array, object][] = [
    [
      "reads an MPEG-2 pack header",
      pack2(0x1_0000_0001),
      { version: 2, length: 14, scrBase: 0x1_0000_0001, muxRate: 25200 },
    ],
    ["counts MPEG-2 pack_stuffing", pack2(90000, 5), { version: 2, length: 19, scrBase: 90000 }],
    [
      "reads an MPEG-1 pack header",
      pack1(123456789),
      { version: 1, length: 12, scrBase: 123456789, muxRate: 3500 },
    ],
  ];
  for (const [name, bytes, want] of valid)
    test(name, () => expect(parsePackHeader(bytes, 0)).toMatchObject(want));

  const broken = (from: Uint8Array, at: number, value: number) => {
    const b = from.slice();
    b[at] = value;
    return b;
  };
  const invalid: [string, Uint8Array, string][] = [
    ["rejects fewer than 12 bytes", pack2().subarray(0, 11), "ERR_PS_TRUNCATED"],
    ["rejects an MPEG-2 header cut before 14 bytes", pack2().subarray(0, 13), "ERR_PS_TRUNCATED"],
    ["rejects stuffing past the data", pack2(0, 7).subarray(0, 18), "ERR_PS_TRUNCATED"],
    ["rejects a system header start code", broken(pack2(), 3, 0xbb), "ERR_PS_PACK_HEADER"],
    ["rejects a cleared MPEG-2 SCR marker", broken(pack2(), 6, pack2()[6]! & ~0x04), "ERR_PS_PACK_HEADER"],
    [
      "rejects cleared MPEG-2 mux rate markers",
      broken(pack2(), 12, pack2()[12]! & ~0x03),
      "ERR_PS_PACK_HEADER",
    ],
    ["rejects a cleared MPEG-1 marker", broken(pack1(), 8, pack1()[8]! & ~0x01), "ERR_PS_PACK_HEADER"],
    ["rejects an SCR starting with neither '01' nor '0010'", broken(pack2(), 4, 0xc4), "ERR_PS_PACK_HEADER"],
  ];
  for (const [name, bytes, code] of invalid)
    test(name, () => expectCodecError(() => parsePackHeader(bytes, 0), code));
});

describe("parseSystemHeader()", () => {
  test("reads bounds and length", () => {
    expect(parseSystemHeader(systemHeader(), 0)).toMatchObject({ length: 15, audioBound: 1, videoBound: 1 });
  });
  const b = systemHeader();
  const invalid: [string, Uint8Array, string][] = [
    ["rejects a short header", b.subarray(0, 10), "ERR_PS_TRUNCATED"],
    ["rejects header_length past the data", b.subarray(0, 14), "ERR_PS_TRUNCATED"],
    [
      "rejects a pack start code",
      new Uint8Array([...b.subarray(0, 3), 0xba, ...b.subarray(4)]),
      "ERR_PS_SYSTEM_HEADER",
    ],
    [
      "rejects header_length below 6",
      new Uint8Array([...b.subarray(0, 5), 5, ...b.subarray(6)]),
      "ERR_PS_SYSTEM_HEADER",
    ],
    [
      "rejects a cleared rate_bound marker",
      new Uint8Array([...b.subarray(0, 6), 0x00, ...b.subarray(7)]),
      "ERR_PS_SYSTEM_HEADER",
    ],
  ];
  for (const [name, bytes, code] of invalid)
    test(name, () => expectCodecError(() => parseSystemHeader(bytes, 0), code));
});
