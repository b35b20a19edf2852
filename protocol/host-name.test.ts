/** @module isHostName(): registration host names, valid and invalid. */
import { expect, test } from "bun:test";
import { isHostName } from "./host-name.ts";

const cases: [string, boolean][] = [
  ["localhost", true],
  ["grandma.dyndns.example", true],
  ["grandma.dyndns.example.", true],
  ["a-b.c0", true],
  [`${"a".repeat(63)}.example`, true],
  [`${"a".repeat(64)}.example`, false],
  [`${"a.".repeat(127)}ab`, false],
  ["", false],
  [".", false],
  ["-a.example", false],
  ["a-.example", false],
  ["a..example", false],
  ["a_b.example", false],
  ["10.0.0.1", false],
  ["1.2.3.999", false],
  ["::1", false],
  ["host name", false],
  ["host:80", false],
  ["xn--bcher-kva.example", true],
  ["bücher.example", false],
];

for (const [s, want] of cases) {
  test(`isHostName() ${want ? "accepts" : "rejects"} ${JSON.stringify(s.slice(0, 40))}`, () => {
    expect(isHostName(s)).toBe(want);
  });
}
