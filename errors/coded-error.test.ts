/** @module Tests for stable-code errors: each family makes the built-in its codes mean and knows only its own. */
import { describe, expect, test } from "bun:test";
import { CodedRangeError, CodedSyntaxError, CodedTypeError, ErrorFamily } from "./coded-error.ts";

abstract class PlainFamily extends ErrorFamily {
  static override readonly family = "Plain";
  static override readonly rangeCodes: ReadonlySet<string> = new Set(["ERR_SHORT"]);
  static override readonly typeCodes: ReadonlySet<string> = new Set(["ERR_KIND"]);
}
abstract class OtherFamily extends ErrorFamily {
  static override readonly family = "Other";
}

describe("ErrorFamily", () => {
  const cases: [string, ErrorConstructor, abstract new (...args: never[]) => Error][] = [
    ["ERR_SHORT", RangeError, CodedRangeError],
    ["ERR_KIND", TypeError, CodedTypeError],
    ["ERR_ANYTHING_ELSE", SyntaxError, CodedSyntaxError],
  ];
  for (const [code, builtIn, coded] of cases) {
    test(`make() gives ${code} a ${builtIn.name} named for its family`, () => {
      const e = PlainFamily.make(code, "Cannot do x: why", 12);
      expect(e).toBeInstanceOf(builtIn);
      expect(e).toBeInstanceOf(coded);
      expect(e).toMatchObject({ code, offset: 12, family: "Plain", name: `Plain${builtIn.name}` });
      expect(e.message).toBe("Cannot do x: why");
    });
  }

  test("make() without an offset leaves it undefined", () => {
    expect(OtherFamily.make("ERR_X", "Cannot do x: why").offset).toBeUndefined();
  });

  const recognised: [string, unknown, boolean, boolean][] = [
    ["its own error", PlainFamily.make("ERR_SHORT", "x"), true, false],
    ["another family's error", OtherFamily.make("ERR_SHORT", "x"), false, true],
    ["a plain RangeError", new RangeError("x"), false, false],
    ["an object with a code", { code: "ERR_SHORT", family: "Plain", message: "x" }, false, false],
    ["undefined", undefined, false, false],
  ];
  for (const [name, value, plain, other] of recognised) {
    test(`instanceof tells ${name} by family`, () => {
      expect(value instanceof PlainFamily).toBe(plain);
      expect(value instanceof OtherFamily).toBe(other);
    });
  }
});
