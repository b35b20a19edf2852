/** @module chooseRoute(): secrecy, then the size rule, then the type. */
import { describe, expect, test } from "bun:test";
import { chooseRoute, type RouteChoice, type RouteFacts } from "./route-rule.ts";

const cases: [string, RouteFacts, RouteChoice][] = [
  ["secret video, no rule", { type: "es", secret: true, size: 10 }, { route: "secret", rule: "secret" }],
  [
    "secret, huge, rule",
    { type: "data", secret: true, size: 2 ** 40, sealedBelowBytes: 100 },
    { route: "secret", rule: "secret" },
  ],
  [
    "small data under the rule",
    { type: "data", secret: false, size: 99, sealedBelowBytes: 100 },
    { route: "small", rule: "size" },
  ],
  [
    "small video under the rule",
    { type: "es", secret: false, size: 5, sealedBelowBytes: 100 },
    { route: "small", rule: "size" },
  ],
  [
    "data at the rule's bound",
    { type: "data", secret: false, size: 100, sealedBelowBytes: 100 },
    { route: "data", rule: "type" },
  ],
  [
    "video above the rule",
    { type: "es", secret: false, size: 101, sealedBelowBytes: 100 },
    { route: "split", rule: "type" },
  ],
  ["data without a rule", { type: "data", secret: false, size: 1 }, { route: "data", rule: "type" }],
];

describe("chooseRoute()", () => {
  for (const [name, facts, want] of cases) {
    test(`chooseRoute() ${name}`, () => expect(chooseRoute(facts)).toEqual(want));
  }
});
