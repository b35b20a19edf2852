/** @module Tests for the hint a refused send prints, by code: what the user can do, never which of two refusals it was. */
import { describe, expect, test } from "bun:test";
import { nextStep } from "./send-next-step.ts";

const base = { to: "bob", me: "alice", storeIfBusy: false };

describe("nextStep()", () => {
  const cases: Array<
    [string, string | undefined, Partial<typeof base> & { storeOffered?: boolean }, RegExp]
  > = [
    [
      "permission_denied names both causes",
      "permission_denied",
      {},
      /no recorder is called bob, or it has not permitted you .*'pvrlink permit add alice'/,
    ],
    [
      "callee_not_found asks bob's owner to run the recorder",
      "callee_not_found",
      {},
      /bob permits you but .*'pvrlink recorder run'/,
    ],
    ["callee_not_connected offers --store-if-busy", "callee_not_connected", {}, /rerun with --store-if-busy/],
    [
      "callee_not_connected with --store-if-busy says to send again",
      "callee_not_connected",
      { storeIfBusy: true },
      /send again once it is on/,
    ],
    ["callee_busy offers --store-if-busy", "callee_busy", {}, /rerun with --store-if-busy/],
    [
      "callee_busy without a store offer says to send later",
      "callee_busy",
      { storeOffered: false },
      /^bob is busy: send again later$/,
    ],
    ["session_ended says to send again", "session_ended", {}, /send again$/],
    ["resume_expired says to send without --resume", "resume_expired", {}, /without --resume/],
  ];
  test.each(cases)("nextStep() for %s", (_, code, o, hint) => {
    expect(nextStep(code, { ...base, ...o })).toMatch(hint);
  });

  test.each([undefined, "relay_upload_failed", "integrity_failed"])(
    "nextStep() has no hint for %p",
    (code) => {
      expect(nextStep(code, base)).toBeUndefined();
    },
  );
});
