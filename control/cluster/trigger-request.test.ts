/** @module Tests for the NATS trigger request and reply: round trips, every malformed shape refused by kind, and random bytes never crash. */
import { describe, expect, test } from "bun:test";
import { SeededRandom } from "../../test/support/seeded-random.ts";
import {
  decodeTriggerReply,
  decodeTriggerRequest,
  encodeTriggerReply,
  encodeTriggerRequest,
  MAX_TRIGGER_REQUEST_BYTES,
  triggerSubject,
} from "./trigger-request.ts";

const enc = (v: unknown) => new TextEncoder().encode(typeof v === "string" ? v : JSON.stringify(v));
const good = { deviceId: "dev_abc", kind: "status", ref: {}, deadlineMs: 3000 };

describe("trigger request", () => {
  test("encodeTriggerRequest() round-trips through decodeTriggerRequest()", () => {
    const r = { deviceId: "dev_x", kind: "contact" as const, ref: { session: "ses_1" }, deadlineMs: 600 };
    expect(decodeTriggerRequest(encodeTriggerRequest(r))).toEqual(r);
    expect(triggerSubject("udp-1")).toBe("pvrlink.udp.udp-1.trigger");
  });

  const bad: Array<[string, Uint8Array, ErrorConstructor]> = [
    ["not UTF-8", new Uint8Array([0xff, 0xfe]), SyntaxError],
    ["not JSON", enc("{"), SyntaxError],
    ["an array", enc([]), TypeError],
    ["no deviceId", enc({ ...good, deviceId: undefined }), TypeError],
    ["a long deviceId", enc({ ...good, deviceId: "d".repeat(65) }), TypeError],
    ["an unknown kind", enc({ ...good, kind: "reboot" }), TypeError],
    ["ref not an object", enc({ ...good, ref: [1] }), TypeError],
    ["deadline 0", enc({ ...good, deadlineMs: 0 }), RangeError],
    ["deadline fractional", enc({ ...good, deadlineMs: 1.5 }), RangeError],
    ["deadline an hour", enc({ ...good, deadlineMs: 3_600_000 }), RangeError],
    ["oversized", new Uint8Array(MAX_TRIGGER_REQUEST_BYTES + 1), RangeError],
  ];
  for (const [name, bytes, kind] of bad) {
    test(`decodeTriggerRequest() rejects ${name}`, () => {
      expect(() => decodeTriggerRequest(bytes)).toThrow(kind);
    });
  }
});

describe("trigger reply", () => {
  test("encodeTriggerReply() round-trips: no ACK, a bare ACK, an answer", () => {
    for (const r of [{ ack: null }, { ack: {} }, { ack: { answer: "acceptable" } }])
      expect(decodeTriggerReply(encodeTriggerReply(r))).toEqual(r);
  });

  const bad: Array<[string, unknown]> = [
    ["no ack field", {}],
    ["ack a string", { ack: "yes" }],
    ["answer a number", { ack: { answer: 1 } }],
    ["answer too long", { ack: { answer: "a".repeat(65) } }],
  ];
  for (const [name, v] of bad) {
    test(`decodeTriggerReply() rejects ${name}`, () => {
      expect(() => decodeTriggerReply(enc(v))).toThrow(TypeError);
    });
  }
});

test("decodeTriggerRequest() and decodeTriggerReply() on random and mutated bytes throw only their own errors", () => {
  const rng = new SeededRandom(16);
  const rand = () => rng.next();
  const base = encodeTriggerRequest({ deviceId: "dev_abc", kind: "status", ref: { a: 1 }, deadlineMs: 3000 });
  for (let i = 0; i < 5000; i++) {
    const bytes =
      i % 2 === 0
        ? Uint8Array.from({ length: Math.floor(rand() * 64) }, () => Math.floor(rand() * 256))
        : base.map((b) => (rand() < 0.05 ? Math.floor(rand() * 256) : b));
    for (const decode of [decodeTriggerRequest, decodeTriggerReply]) {
      try {
        decode(bytes);
      } catch (err) {
        expect(err instanceof SyntaxError || err instanceof TypeError || err instanceof RangeError).toBe(
          true,
        );
      }
    }
  }
});
