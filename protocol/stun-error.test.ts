/** @module Tests for STUN errors: each stable code's built-in, and one way to recognise them. */
import { describe, expect, test } from "bun:test";
import { StunError, stunError } from "./stun-error.ts";

describe("stunError", () => {
  const cases: [string, ErrorConstructor][] = [
    ["ERR_STUN_TRUNCATED", RangeError],
    ["ERR_STUN_LENGTH", RangeError],
    ["ERR_STUN_INTEGER", RangeError],
    ["ERR_STUN_ERROR_CODE", RangeError],
    ["ERR_STUN_NOT_STUN", TypeError],
    ["ERR_KEEPALIVE_MISMATCH", TypeError],
    ["ERR_KEEPALIVE_REJECTED", TypeError],
    ["ERR_STUN_FINGERPRINT_NOT_LAST", SyntaxError],
    ["ERR_STUN_ADDRESS", SyntaxError],
    ["ERR_KEEPALIVE_UNAUTHENTICATED", SyntaxError],
  ];
  for (const [code, builtIn] of cases) {
    test(`stunError() makes ${code} a ${builtIn.name} that instanceof StunError recognises`, () => {
      const e = stunError(code, "Cannot parse STUN header: why");
      expect(e).toBeInstanceOf(builtIn);
      expect(e).toBeInstanceOf(StunError);
      expect(e).toMatchObject({ code, message: "Cannot parse STUN header: why" });
    });
  }

  test("instanceof StunError rejects a plain error and a look-alike object", () => {
    expect(new RangeError("x") instanceof StunError).toBe(false);
    expect({ code: "ERR_STUN_LENGTH", message: "x" } instanceof StunError).toBe(false);
  });
});
