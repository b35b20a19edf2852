/** @module Tests for trigger datagrams and their ACKs: round trips, MAC, freshness and malformed bodies. */
import { describe, expect, test } from "bun:test";
import { createHmac } from "node:crypto";
import { deriveKey, prepareHmacKey } from "../crypto/hmac.ts";
import {
  encodeTrigger,
  encodeTriggerAck,
  isTriggerDatagram,
  peekTriggerDatagram,
  TRIGGER_KINDS,
  TRIGGER_WINDOW_MS,
  TriggerReplayGuard,
  TYPE_ACK,
  TYPE_TRIGGER,
  verifyTrigger,
  verifyTriggerAck,
} from "./trigger-datagram.ts";
import { TriggerError } from "./trigger-error.ts";

const key = deriveKey(new Uint8Array(32).fill(1), "trigger");
const otherKey = deriveKey(new Uint8Array(32).fill(2), "trigger");
const NOW = 1_800_000_000_000;

const codeOf = (f: () => unknown): string => {
  try {
    f();
  } catch (e) {
    if (e instanceof TriggerError) return e.code;
    throw e;
  }
  return "accepted";
};

describe("trigger datagrams", () => {
  test("encodeTrigger() round-trips every kind through verifyTrigger()", () => {
    for (const kind of TRIGGER_KINDS) {
      const ref = { session: "ses_1", n: 3, nested: { a: [1, 2] } };
      const { bytes, id } = encodeTrigger({ deviceId: "dev_a", kind, ref, timestamp: NOW }, key);
      expect(isTriggerDatagram(bytes)).toBe(true);
      expect(peekTriggerDatagram(bytes)).toEqual({ type: TYPE_TRIGGER, id });
      expect(verifyTrigger(bytes, key, { deviceId: "dev_a", now: NOW + 1000 })).toEqual({
        id,
        deviceId: "dev_a",
        kind,
        ref,
        timestamp: NOW,
      });
    }
  });

  test("encodeTriggerAck() round-trips with and without an answer", () => {
    const { id } = encodeTrigger({ deviceId: "dev_a", kind: "status", ref: {}, timestamp: NOW }, key);
    const withAnswer = encodeTriggerAck({ id, deviceId: "dev_a", answer: "busy", timestamp: NOW }, key);
    expect(peekTriggerDatagram(withAnswer)).toEqual({ type: TYPE_ACK, id });
    expect(verifyTriggerAck(withAnswer, key, { deviceId: "dev_a", now: NOW })).toEqual({
      id,
      deviceId: "dev_a",
      answer: "busy",
      timestamp: NOW,
    });
    const plain = encodeTriggerAck({ id, deviceId: "dev_a", timestamp: NOW }, key);
    expect(verifyTriggerAck(plain, key, { deviceId: "dev_a", now: NOW })).toEqual({
      id,
      deviceId: "dev_a",
      timestamp: NOW,
    });
  });

  const { bytes: trig, id } = encodeTrigger(
    { deviceId: "dev_a", kind: "contact", ref: {}, timestamp: NOW },
    key,
  );
  const ack = encodeTriggerAck({ id, deviceId: "dev_a", answer: "allow", timestamp: NOW }, key);
  const cases: Array<[string, () => unknown, string]> = [
    [
      "verifyTrigger() rejects the wrong key",
      () => verifyTrigger(trig, otherKey, { deviceId: "dev_a", now: NOW }),
      "ERR_TRIGGER_BAD_TAG",
    ],
    [
      "verifyTrigger() rejects another device's trigger",
      () => verifyTrigger(trig, key, { deviceId: "dev_b", now: NOW }),
      "ERR_TRIGGER_WRONG_DEVICE",
    ],
    [
      "verifyTrigger() rejects a timestamp past the window",
      () => verifyTrigger(trig, key, { deviceId: "dev_a", now: NOW + TRIGGER_WINDOW_MS + 1 }),
      "ERR_TRIGGER_STALE",
    ],
    [
      "verifyTrigger() rejects a timestamp from the future",
      () => verifyTrigger(trig, key, { deviceId: "dev_a", now: NOW - TRIGGER_WINDOW_MS - 1 }),
      "ERR_TRIGGER_STALE",
    ],
    [
      "verifyTrigger() rejects an ACK",
      () => verifyTrigger(ack, key, { deviceId: "dev_a", now: NOW }),
      "ERR_TRIGGER_MALFORMED",
    ],
    [
      "verifyTriggerAck() rejects a reflected trigger",
      () => verifyTriggerAck(trig, key, { deviceId: "dev_a", now: NOW }),
      "ERR_TRIGGER_MALFORMED",
    ],
    [
      "verifyTriggerAck() rejects the wrong key",
      () => verifyTriggerAck(ack, otherKey, { deviceId: "dev_a", now: NOW }),
      "ERR_TRIGGER_BAD_TAG",
    ],
    [
      "verifyTrigger() rejects a short datagram",
      () => verifyTrigger(trig.subarray(0, 40), key, { deviceId: "dev_a", now: NOW }),
      "ERR_TRIGGER_MALFORMED",
    ],
  ];
  for (const [name, f, code] of cases) test(name, () => expect(codeOf(f)).toBe(code));

  test("verifyTrigger() rejects a body that is valid under the MAC but not a trigger", () => {
    // A correctly keyed datagram with a bad body: built by hand so the MAC passes and the shape check must fail.
    const bad = encodeTriggerAck({ id, deviceId: "dev_a", timestamp: NOW }, key);
    bad[5] = TYPE_TRIGGER;
    expect(codeOf(() => verifyTrigger(bad, key, { deviceId: "dev_a", now: NOW }))).toBe(
      "ERR_TRIGGER_BAD_TAG",
    );
    const signed = bad.byteLength - 32;
    bad.set(createHmac("sha256", key).update(bad.subarray(0, signed)).digest(), signed);
    expect(codeOf(() => verifyTrigger(bad, key, { deviceId: "dev_a", now: NOW }))).toBe(
      "ERR_TRIGGER_MALFORMED",
    );
  });

  test("encodeTrigger() writes the documented big-endian layout, tag over bytes 0 .. 32+n", () => {
    // Read back with a DataView, independently of the codec's own byte reads, at timestamps either side of 2^32.
    for (const timestamp of [NOW, 2 ** 32 - 1, 2 ** 32 + 7, Number.MAX_SAFE_INTEGER]) {
      const { bytes, id: tid } = encodeTrigger(
        { deviceId: "dev_a", kind: "status", ref: {}, timestamp },
        key,
      );
      const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      const n = dv.getUint16(6);
      expect([dv.getUint32(0), dv.getUint8(4), dv.getUint8(5), 32 + n + 32]).toEqual([
        0x50565447,
        1,
        TYPE_TRIGGER,
        bytes.byteLength,
      ]);
      expect(Buffer.from(bytes.subarray(8, 24)).toString("base64url")).toBe(tid);
      expect(dv.getBigUint64(24)).toBe(BigInt(timestamp));
      expect(JSON.parse(new TextDecoder().decode(bytes.subarray(32, 32 + n)))).toEqual({
        device: "dev_a",
        kind: "status",
        ref: {},
      });
      const tag = createHmac("sha256", key)
        .update(bytes.subarray(0, 32 + n))
        .digest();
      expect(Buffer.from(bytes.subarray(32 + n)).equals(tag)).toBe(true);
      expect(verifyTrigger(bytes, key, { deviceId: "dev_a", now: timestamp }).timestamp).toBe(timestamp);
    }
  });

  test("a prepared key (KeyObject) and the same key's bytes make and accept the same datagrams", () => {
    const prepared = prepareHmacKey(key);
    const t = encodeTrigger({ deviceId: "dev_a", kind: "status", ref: {}, timestamp: NOW }, prepared);
    expect(verifyTrigger(t.bytes, key, { deviceId: "dev_a", now: NOW }).id).toBe(t.id);
    const a = encodeTriggerAck({ id: t.id, deviceId: "dev_a", answer: "acceptable", timestamp: NOW }, key);
    expect(verifyTriggerAck(a, prepared, { deviceId: "dev_a", now: NOW }).answer).toBe("acceptable");
    expect(codeOf(() => verifyTriggerAck(a, prepareHmacKey(otherKey), { deviceId: "dev_a", now: NOW }))).toBe(
      "ERR_TRIGGER_BAD_TAG",
    );
  });

  test("verifyTrigger() rejects a correctly keyed timestamp beyond 2^53 ms", () => {
    const big = new Uint8Array(trig);
    new DataView(big.buffer).setBigUint64(24, BigInt(Number.MAX_SAFE_INTEGER) + 1n);
    const signed = big.byteLength - 32;
    big.set(createHmac("sha256", key).update(big.subarray(0, signed)).digest(), signed);
    expect(codeOf(() => verifyTrigger(big, key, { deviceId: "dev_a", now: NOW }))).toBe(
      "ERR_TRIGGER_MALFORMED",
    );
  });

  test("encodeTrigger() refuses a ref that would not fit one datagram", () => {
    expect(() =>
      encodeTrigger({ deviceId: "dev_a", kind: "data", ref: { x: "y".repeat(2000) }, timestamp: NOW }, key),
    ).toThrow(RangeError);
  });

  test("every truncation and every bit flip is refused with a TriggerError", () => {
    for (let n = 0; n < trig.byteLength; n++) {
      expect(codeOf(() => verifyTrigger(trig.subarray(0, n), key, { deviceId: "dev_a", now: NOW }))).not.toBe(
        "accepted",
      );
    }
    for (let bit = 0; bit < trig.byteLength * 8; bit++) {
      const b = new Uint8Array(trig);
      b[bit >> 3] = b[bit >> 3]! ^ (1 << (bit & 7));
      expect(codeOf(() => verifyTrigger(b, key, { deviceId: "dev_a", now: NOW }))).not.toBe("accepted");
    }
    for (let i = 0; i < 2000; i++) {
      const g = crypto.getRandomValues(new Uint8Array(i % 300));
      if (i % 2 && g.byteLength >= 4) new DataView(g.buffer).setUint32(0, 0x50565447);
      expect(codeOf(() => verifyTriggerAck(g, key, { deviceId: "dev_a", now: NOW }))).not.toBe("accepted");
      peekTriggerDatagram(g);
    }
  });

  test("TriggerReplayGuard admits an id once, then reports duplicates until it ages out", () => {
    const guard = new TriggerReplayGuard();
    const t = verifyTrigger(trig, key, { deviceId: "dev_a", now: NOW });
    expect(guard.admit(t, NOW)).toBe("new");
    expect(guard.admit(t, NOW + 1000)).toBe("duplicate");
    expect(guard.admit(t, NOW + 2 * TRIGGER_WINDOW_MS + 1)).toBe("new");
  });
});
