/** @module Tests for STUN and trigger errors: each stable code's built-in, recognised by its own family only. */
import { describe, expect, test } from "bun:test";
import { CodecError } from "../codec/codec-error.ts";
import { StunError, stunError } from "./stun-error.ts";
import { TriggerError, type TriggerErrorCode, triggerError } from "./trigger-error.ts";

describe("protocol error families", () => {
  const cases: ["stun" | "trigger", string, ErrorConstructor][] = [
    ["stun", "ERR_STUN_TRUNCATED", RangeError],
    ["stun", "ERR_STUN_LENGTH", RangeError],
    ["stun", "ERR_STUN_NOT_STUN", TypeError],
    ["stun", "ERR_KEEPALIVE_REJECTED", TypeError],
    ["stun", "ERR_STUN_ADDRESS", SyntaxError],
    ["stun", "ERR_KEEPALIVE_UNAUTHENTICATED", SyntaxError],
    ["trigger", "ERR_TRIGGER_MALFORMED", SyntaxError],
    ["trigger", "ERR_TRIGGER_BAD_TAG", SyntaxError],
    ["trigger", "ERR_TRIGGER_STALE", RangeError],
    ["trigger", "ERR_TRIGGER_WRONG_DEVICE", TypeError],
  ];
  for (const [family, code, builtIn] of cases) {
    test(`${family} error ${code} is a ${builtIn.name} that only its family recognises`, () => {
      const e =
        family === "stun"
          ? stunError(code, "Cannot x: y")
          : triggerError(code as TriggerErrorCode, "Cannot x: y");
      expect(e).toBeInstanceOf(builtIn);
      expect(e).toMatchObject({ code, message: "Cannot x: y" });
      expect(e instanceof StunError).toBe(family === "stun");
      expect(e instanceof TriggerError).toBe(family === "trigger");
      expect(e instanceof CodecError).toBe(false);
    });
  }
});
