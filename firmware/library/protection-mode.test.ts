/** @module Tests for the --protection parser: the three modes in any case and spacing, anything else refused. */
import { describe, expect, test } from "bun:test";
import { isLightProtection, type ProtectionMode, parseProtection } from "./protection-mode.ts";

describe("parseProtection()", () => {
  const valid: Array<[string, ProtectionMode]> = [
    ["sealed", "sealed"],
    [" SEALED ", "sealed"],
    ["seed", "seed"],
    ["Pattern", "pattern"],
  ];
  test.each(valid)("parseProtection() accepts %p as %p", (value, mode) => {
    expect(parseProtection(value)).toBe(mode);
  });
  test.each(["full", "", "sealed,seed", "none"])(
    "parseProtection() rejects %p with ERR_PROTECTION",
    (value) => {
      const err = (() => {
        try {
          parseProtection(value);
        } catch (e) {
          return e as Error & { code?: string };
        }
      })();
      expect(err?.message).toMatch(/^Cannot use protection '.*': expected sealed, seed, pattern$/);
      expect(err?.code).toBe("ERR_PROTECTION");
    },
  );
});

describe("isLightProtection()", () => {
  test.each([
    ["sealed", false],
    ["seed", true],
    ["pattern", true],
  ] as Array<[ProtectionMode, boolean]>)("isLightProtection() says %p is light: %p", (mode, light) => {
    expect(isLightProtection(mode)).toBe(light);
  });
});
