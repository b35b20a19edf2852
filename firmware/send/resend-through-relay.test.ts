/** @module shouldResendThroughRelay(): only a broken direct channel earns a second, relay-only attempt. */
import { describe, expect, test } from "bun:test";
import { shouldResendThroughRelay } from "./resend-through-relay.ts";
import type { SendResult } from "./send-result.ts";

const base: SendResult = {
  ok: false,
  code: "direct_failed",
  message: "Connection failed: QUIC connection lost: closed",
  mode: "live",
  route: "split",
  rule: "type",
  fallback: false,
  directPath: "punched",
  bytesDirect: 1000,
  bytesRelay: 10,
  bytesRelayPayload: 10,
  sha256: "x",
  extensions: 0,
  forcedEnd: false,
  transfers: [],
};

describe("shouldResendThroughRelay()", () => {
  const cases: Array<[string, Partial<SendResult>, boolean]> = [
    ["resends after the caller's own channel failed", {}, true],
    [
      "resends after the callee gave up on the channel and ended the session as done",
      { code: "session_ended", message: "session ended by the node: done", forcedEnd: true },
      true,
    ],
    [
      "respects an operator's end",
      { code: "session_ended", message: "session ended by the node: admin: maintenance", forcedEnd: true },
      false,
    ],
    [
      "respects a lease expiry",
      { code: "session_ended", message: "session ended by the node: expired" },
      false,
    ],
    ["does not resend a send that went through the relay anyway", { fallback: true }, false],
    ["does not resend a success", { ok: true }, false],
    ["does not resend a store-and-forward send", { mode: "store" }, false],
    ["does not resend a refusal", { code: "direct_permission_denied" }, false],
  ];
  for (const [what, over, expected] of cases) {
    test(`shouldResendThroughRelay() ${what}`, () => {
      const r: SendResult = { ...base, ...over };
      // A fallback send never had a direct path: the field is absent, as sendRecording leaves it.
      if (r.fallback) delete r.directPath;
      expect(shouldResendThroughRelay(r)).toBe(expected);
    });
  }
});
