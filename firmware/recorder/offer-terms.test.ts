/** @module Tests for readOfferTerms(): what an OFFER's meta must carry, and which OFFERs are refused outright. */
import { describe, expect, test } from "bun:test";
import type { OfferMessage } from "../direct/direct-message.ts";
import { readOfferTerms } from "./offer-terms.ts";
import { ReceiveFailure } from "./receive-failure.ts";

const SHA = "ab".repeat(32);
const offer = (kind: string, meta?: Record<string, unknown>): OfferMessage => ({
  type: "offer",
  kind,
  size: 10,
  name: "r.mpg",
  ...(meta === undefined ? {} : { meta }),
});

describe("readOfferTerms()", () => {
  test.each([
    ["a data OFFER", offer("data", { sha256: SHA }), { sha256: SHA, secret: false, protection: "seed" }],
    [
      "a secret relay OFFER",
      offer("relay", { sha256: SHA, secret: true, relay: { transferId: "t1", stream: 3 } }),
      { sha256: SHA, secret: true, protection: "seed", relay: { transferId: "t1", stream: 3 } },
    ],
    [
      "a pattern split with its relay leg",
      offer("split", { sha256: SHA, protection: "pattern", relay: { transferId: "t2", stream: 1 } }),
      { sha256: SHA, secret: false, protection: "pattern", relay: { transferId: "t2", stream: 1 } },
    ],
    [
      "a sealed split",
      offer("split", { sha256: SHA, protection: "sealed", relay: { transferId: "t3", stream: 1 } }),
      { sha256: SHA, secret: false, protection: "sealed", relay: { transferId: "t3", stream: 1 } },
    ],
    [
      "a sealed data OFFER",
      offer("data", { sha256: SHA, protection: "sealed" }),
      { sha256: SHA, secret: false, protection: "sealed" },
    ],
    [
      "a split without protection (seed)",
      offer("split", { sha256: SHA }),
      { sha256: SHA, secret: false, protection: "seed" },
    ],
    [
      "a resumed split with its direct size",
      offer("split", { sha256: SHA, directSize: 8, resume: { held: 4 } }),
      { sha256: SHA, secret: false, protection: "seed", directSize: 8, resume: { held: 4 } },
    ],
    [
      "a resumed data OFFER holding all of it",
      offer("data", { sha256: SHA, resume: { held: 10 } }),
      { sha256: SHA, secret: false, protection: "seed", resume: { held: 10 } },
    ],
  ])("readOfferTerms() reads %s", (_name, o, want) => {
    expect(readOfferTerms(o)).toEqual(want as ReturnType<typeof readOfferTerms>);
  });

  test.each([
    ["no meta", offer("data"), "protocol_error", "OFFER without meta.sha256"],
    [
      "a resume past the size",
      offer("data", { sha256: SHA, resume: { held: 11 } }),
      "protocol_error",
      "resume.held",
    ],
    ["a resume without held", offer("data", { sha256: SHA, resume: {} }), "protocol_error", "resume.held"],
    ["a resume of null", offer("data", { sha256: SHA, resume: null }), "protocol_error", "resume.held"],
    [
      "a negative directSize",
      offer("split", { sha256: SHA, directSize: -1 }),
      "protocol_error",
      "directSize",
    ],
    ["an upper-case hash", offer("data", { sha256: SHA.toUpperCase() }), "protocol_error", "meta.sha256"],
    ["a short hash", offer("data", { sha256: SHA.slice(2) }), "protocol_error", "meta.sha256"],
    ["a secret data OFFER", offer("data", { sha256: SHA, secret: true }), "clear_data_refused", "data OFFER"],
    [
      "a secret split OFFER",
      offer("split", { sha256: SHA, secret: true }),
      "clear_data_refused",
      "split OFFER",
    ],
    [
      "a relay OFFER without transfer",
      offer("relay", { sha256: SHA }),
      "protocol_error",
      "meta.relay.transferId",
    ],
    [
      "a split with unknown protection",
      offer("split", { sha256: SHA, protection: "xor" }),
      "protocol_error",
      "'xor'",
    ],
    [
      "a data OFFER with unknown protection",
      offer("data", { sha256: SHA, protection: 1 }),
      "protocol_error",
      "Unknown protection '1'",
    ],
    [
      "a data OFFER naming pattern",
      offer("data", { sha256: SHA, protection: "pattern" }),
      "protocol_error",
      "'pattern' in a data OFFER",
    ],
  ])("readOfferTerms() rejects %s", (_name, o, code, message) => {
    let err: unknown;
    try {
      readOfferTerms(o);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ReceiveFailure);
    expect((err as ReceiveFailure).code).toBe(code);
    expect((err as ReceiveFailure).message).toContain(message);
  });
});
