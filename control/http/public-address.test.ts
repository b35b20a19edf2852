/** @module Tests for isPublicAddress(): the special-purpose IPv4 and IPv6 blocks a device must not point the node at. */
import { expect, test } from "bun:test";
import { SeededRandom } from "../../test/support/seeded-random.ts";
import { isPublicAddress } from "./public-address.ts";

const cases: [string, boolean][] = [
  ["8.8.8.8", true],
  ["93.184.216.34", true],
  ["127.0.0.1", false],
  ["169.254.169.254", false],
  ["10.1.2.3", false],
  ["172.16.0.1", false],
  ["172.32.0.1", true],
  ["192.168.1.2", false],
  ["100.64.0.1", false],
  ["0.0.0.0", false],
  ["224.0.0.1", false],
  ["255.255.255.255", false],
  ["203.0.113.5", false],
  ["2606:4700:4700::1111", true],
  ["::1", false],
  ["::", false],
  [":::::::::", false],
  ["fe80::1", false],
  ["fe80::1%eth0", false],
  ["fd00::1", false],
  ["ff02::1", false],
  ["2001:db8::1", false],
  ["::ffff:127.0.0.1", false],
  ["::ffff:8.8.8.8", true],
  ["not an address", false],
  ["1.2.3", false],
];

for (const [address, want] of cases) {
  test(`isPublicAddress() says ${want} for '${address}'`, () => {
    expect(isPublicAddress(address)).toBe(want);
  });
}

test("isPublicAddress() never throws on 5,000 random strings of address characters", () => {
  const random = new SeededRandom(21);
  const alphabet = "0123456789abcdefABCDEF:.%[]x ";
  for (let i = 0; i < 5000; i++) {
    const s = Array.from({ length: random.below(48) }, () => alphabet[random.below(alphabet.length)]).join(
      "",
    );
    expect(typeof isPublicAddress(s)).toBe("boolean");
  }
});
