/** @module chooseRoute(): secrecy, then the size rule, then the type. */
import { describe, expect, test } from "bun:test";
import type { RecordingType } from "../library/detect-recording-type.ts";
import { chooseRoute } from "./route-rule.ts";

/** [type, secret, size, sealedBelowBytes (undefined: no rule), expected "route/rule"]. */
const cases: [RecordingType, boolean, number, number | undefined, string][] = [
  ["es", true, 10, undefined, "secret/secret"],
  ["data", true, 2 ** 40, 100, "secret/secret"],
  ["data", false, 99, 100, "small/size"],
  ["es", false, 5, 100, "small/size"],
  ["data", false, 100, 100, "data/type"],
  ["es", false, 101, 100, "split/type"],
  ["data", false, 1, undefined, "data/type"],
];

describe("chooseRoute()", () => {
  for (const [type, secret, size, sealedBelowBytes, want] of cases) {
    test(`chooseRoute() sends ${secret ? "secret " : ""}${type} of ${size} B (rule ${sealedBelowBytes}) by ${want}`, () => {
      const { route, rule } = chooseRoute({ type, secret, size, sealedBelowBytes });
      expect(`${route}/${rule}`).toBe(want);
    });
  }
});
