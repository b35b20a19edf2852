import { describe, expect, test } from "bun:test";
import { crc32 } from "./stun-crc32.ts";

/** The definition, bit by bit (ITU-T V.42 8.1.1.6.2, reflected 0xEDB88320, preset and final XOR all ones). */
function crc32Bitwise(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of bytes) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  }
  return (c ^ 0xffffffff) >>> 0;
}

describe("crc32()", () => {
  test.each([
    ["the check value of '123456789'", new TextEncoder().encode("123456789"), 0xcbf43926],
    ["no bytes", new Uint8Array(0), 0],
    ["one zero byte", new Uint8Array(1), 0xd202ef8d],
    ["four 0xff bytes", new Uint8Array(4).fill(0xff), 0xffffffff],
  ])("crc32() of %s", (_, bytes, want) => {
    expect(crc32(bytes)).toBe(want);
  });

  test("crc32() agrees with the bitwise definition on views at any offset and length", () => {
    const big = new Uint8Array(2048);
    crypto.getRandomValues(big);
    for (let i = 0; i < 500; i++) {
      const start = (i * 37) % 1024;
      const view = big.subarray(start, start + ((i * 101) % 1000));
      expect(crc32(view)).toBe(crc32Bitwise(view));
    }
  });
});
