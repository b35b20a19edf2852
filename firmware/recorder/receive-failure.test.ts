/** @module failureCode(): every error a receive can end with maps to its stable RECEIPT code. */
import { describe, expect, test } from "bun:test";
import { failureCode, ReceiveFailure } from "./receive-failure.ts";

const withCode = (code: string) => Object.assign(new Error("x"), { code });

describe("failureCode()", () => {
  const cases: Array<[string, unknown, string]> = [
    ["a failed decrypt", withCode("ERR_DECRYPT"), "decrypt_failed"],
    ["a split integrity error", withCode("ERR_SPLIT_INTEGRITY"), "integrity_failed"],
    ["a library hash mismatch", withCode("ERR_LIBRARY_SHA256_MISMATCH"), "integrity_failed"],
    ["a truncated relay stream", withCode("ERR_RELAY_TRUNCATED"), "truncated"],
    ["a direct protocol error", withCode("ERR_DIRECT_PROTOCOL"), "protocol_error"],
    ["a closed channel", withCode("ERR_DIRECT_CLOSED"), "ended"],
    ["an expired channel", withCode("ERR_DIRECT_EXPIRED"), "expired"],
    ["a node that stayed away", withCode("ERR_RELAY_UNREACHABLE"), "node_unreachable"],
    ["an abort", Object.assign(new Error("x"), { name: "AbortError" }), "ended"],
    ["anything else", new Error("boom"), "receive_failed"],
    ["a thrown non-error", "boom", "receive_failed"],
  ];
  for (const [what, err, code] of cases) {
    test(`failureCode() gives ${code} for ${what}`, () => {
      expect(failureCode(err)).toBe(code);
    });
  }
  test("ReceiveFailure carries its own code", () => {
    expect(new ReceiveFailure("clear_data_refused", "m").code).toBe("clear_data_refused");
  });
});
