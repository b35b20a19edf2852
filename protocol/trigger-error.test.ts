/** @module Tests for trigger errors: each stable code's built-in, and one way to recognise them. */
import { describe, expect, test } from "bun:test";
import { TriggerError, type TriggerErrorCode, triggerError } from "./trigger-error.ts";

describe("triggerError", () => {
  const cases: [TriggerErrorCode, ErrorConstructor][] = [
    ["ERR_TRIGGER_MALFORMED", SyntaxError],
    ["ERR_TRIGGER_BAD_TAG", SyntaxError],
    ["ERR_TRIGGER_STALE", RangeError],
    ["ERR_TRIGGER_WRONG_DEVICE", TypeError],
  ];
  for (const [code, builtIn] of cases) {
    test(`triggerError() makes ${code} a ${builtIn.name} that instanceof TriggerError recognises`, () => {
      const e = triggerError(code, "Cannot accept datagram: why");
      expect(e).toBeInstanceOf(builtIn);
      expect(e).toBeInstanceOf(TriggerError);
      expect(e).toMatchObject({ code, message: "Cannot accept datagram: why" });
    });
  }

  test("instanceof TriggerError rejects a plain error and a look-alike object", () => {
    expect(new SyntaxError("x") instanceof TriggerError).toBe(false);
    expect({ code: "ERR_TRIGGER_STALE", message: "x" } instanceof TriggerError).toBe(false);
  });
});
