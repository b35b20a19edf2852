import { expect, test } from "bun:test";
import { patSection } from "../../test/support/synthetic-container-streams.ts";
import { crc32Mpeg } from "./mpeg-crc32.ts";

test("crc32Mpeg() gives the CRC-32/MPEG-2 check value of '123456789'", () => {
  expect(crc32Mpeg(new TextEncoder().encode("123456789"))).toBe(0x0376e6e7);
});

test("crc32Mpeg() of a section with its CRC_32 is 0, and not 0 once a byte changes", () => {
  const section = patSection([{ programNumber: 1, pid: 0x1000 }]);
  expect(crc32Mpeg(section)).toBe(0);
  section[5]! ^= 0x80;
  expect(crc32Mpeg(section)).not.toBe(0);
});
