/** @module Session bindings end to end through KeepaliveHandler + SessionRendezvous: who learns which address. */
import { describe, expect, test } from "bun:test";
import { deriveKey } from "../../crypto/hmac.ts";
import { buildSessionBinding, readSessionBindingResponse } from "../../protocol/session-binding.ts";
import type { TransportAddress } from "../../protocol/stun-address.ts";
import { decodeErrorCode, encodeText, encodeU64 } from "../../protocol/stun-attributes.ts";
import {
  ATTR_ERROR_CODE,
  ATTR_PVRLINK_SESSION,
  ATTR_PVRLINK_TIMESTAMP,
  ATTR_USERNAME,
  BINDING_REQUEST,
} from "../../protocol/stun-constants.ts";
import { StunError } from "../../protocol/stun-error.ts";
import { decodeStunMessage, encodeStunMessage, findAttribute } from "../../protocol/stun-message.ts";
import { SeededRandom } from "../../test/support/seeded-random.ts";
import { KeepaliveHandler } from "./keepalive-handler.ts";
import { SessionRendezvous } from "./session-rendezvous.ts";

const NOW = 1_800_000_000_000;
const secrets: Record<string, Uint8Array> = {
  dev_a: new Uint8Array(32).fill(1),
  dev_b: new Uint8Array(32).fill(2),
  dev_x: new Uint8Array(32).fill(3),
};
const keyOf = (id: string) => deriveKey(secrets[id]!, "stun");
const v4 = (address: string, port: number): TransportAddress => ({ family: "IPv4", address, port });

function setup() {
  const rendezvous = new SessionRendezvous((id) =>
    id === "ses_1" ? { callerId: "dev_a", calleeId: "dev_b" } : null,
  );
  const handler = new KeepaliveHandler((id) => secrets[id] ?? null);
  handler.sessionBinder = (d, s, seen) => rendezvous.bind(d, s, seen);
  const bind = (
    deviceId: string,
    from: TransportAddress,
    o: { sessionId?: string; local?: TransportAddress } = {},
  ) => {
    const req = buildSessionBinding({
      deviceId,
      key: keyOf(deviceId),
      sessionId: o.sessionId ?? "ses_1",
      now: NOW,
      ...(o.local ? { local: o.local } : {}),
    });
    const out = handler.handle(req.bytes, { address: from.address, port: from.port }, NOW);
    return {
      out,
      read: () =>
        readSessionBindingResponse(out.reply!, { key: keyOf(deviceId), transactionId: req.transactionId }),
    };
  };
  return { rendezvous, handler, bind };
}

const errorCode = (reply: Uint8Array | null) => {
  const ec = reply ? findAttribute(decodeStunMessage(reply), ATTR_ERROR_CODE) : undefined;
  return ec ? decodeErrorCode(ec.value).code : undefined;
};

describe("session bindings", () => {
  test("bind() tells each peer the other's mapping once both bound, and registers no keepalive", () => {
    const { bind } = setup();
    const first = bind("dev_a", v4("100.64.1.2", 40001));
    expect(first.out.registration).toBeNull();
    expect(first.out.sessionBinding).toEqual({ deviceId: "dev_a", sessionId: "ses_1" });
    expect(first.read()).toEqual({ mapped: v4("100.64.1.2", 40001) });
    expect(bind("dev_b", v4("100.64.2.2", 50002)).read()).toEqual({
      mapped: v4("100.64.2.2", 50002),
      peer: v4("100.64.1.2", 40001),
    });
    expect(bind("dev_a", v4("100.64.1.2", 40001)).read().peer).toEqual(v4("100.64.2.2", 50002));
  });

  test("bind() hands over the LAN address only between peers behind one public address", () => {
    const { bind } = setup();
    bind("dev_a", v4("100.64.1.2", 40001), { local: v4("192.168.1.2", 40001) });
    const other = bind("dev_b", v4("100.64.2.2", 50002), { local: v4("192.168.1.3", 50002) }).read();
    expect(other.peerLocal).toBeUndefined();
    const same = bind("dev_b", v4("100.64.1.2", 1025), { local: v4("192.168.1.3", 50002) }).read();
    expect(same).toEqual({
      mapped: v4("100.64.1.2", 1025),
      peer: v4("100.64.1.2", 40001),
      peerLocal: v4("192.168.1.2", 40001),
    });
  });

  const refused: Array<[string, () => ReturnType<ReturnType<typeof setup>["bind"]>, number]> = [
    ["a device that is no party to the session", () => setup().bind("dev_x", v4("100.64.3.2", 1)), 403],
    ["an unknown session id", () => setup().bind("dev_a", v4("100.64.1.2", 1), { sessionId: "ses_2" }), 403],
  ];
  for (const [what, run, code] of refused) {
    test(`bind() refuses ${what} with ${code} and tells it nothing`, () => {
      const { out } = run();
      expect(errorCode(out.reply)).toBe(code);
      expect(out.sessionBinding).toBeUndefined();
    });
  }

  test("a stranger binding to a real session learns nothing and spoils nothing", () => {
    const { bind } = setup();
    bind("dev_a", v4("100.64.1.2", 40001), { local: v4("192.168.1.2", 40001) });
    expect(errorCode(bind("dev_x", v4("100.64.1.9", 9)).out.reply)).toBe(403);
    expect(bind("dev_b", v4("100.64.2.2", 50002)).read().peer).toEqual(v4("100.64.1.2", 40001));
  });

  test("a node without a binder refuses session bindings with 403", () => {
    const handler = new KeepaliveHandler((id) => secrets[id] ?? null);
    const req = buildSessionBinding({ deviceId: "dev_a", key: keyOf("dev_a"), sessionId: "ses_1", now: NOW });
    expect(errorCode(handler.handle(req.bytes, { address: "100.64.1.2", port: 1 }, NOW).reply)).toBe(403);
  });

  test("an unauthenticated PVRLINK-SESSION is refused before any session lookup", () => {
    let lookups = 0;
    const rendezvous = new SessionRendezvous(() => {
      lookups++;
      return { callerId: "dev_a", calleeId: "dev_b" };
    });
    const handler = new KeepaliveHandler((id) => secrets[id] ?? null);
    handler.sessionBinder = (d, s, seen) => rendezvous.bind(d, s, seen);
    const forged = encodeStunMessage({
      type: BINDING_REQUEST,
      transactionId: new Uint8Array(12).fill(7),
      attributes: [
        { type: ATTR_USERNAME, value: encodeText("dev_a") },
        { type: ATTR_PVRLINK_TIMESTAMP, value: encodeU64(NOW) },
        { type: ATTR_PVRLINK_SESSION, value: encodeText("ses_1") },
      ],
      integritySha256Key: new Uint8Array(32).fill(99),
      fingerprint: true,
    });
    expect(errorCode(handler.handle(forged, { address: "100.64.9.9", port: 9 }, NOW).reply)).toBe(401);
    expect(lookups).toBe(0);
  });

  test("readSessionBindingResponse() rejects an answer under another key", () => {
    const { handler } = setup();
    const req = buildSessionBinding({ deviceId: "dev_a", key: keyOf("dev_a"), sessionId: "ses_1", now: NOW });
    const out = handler.handle(req.bytes, { address: "100.64.1.2", port: 1 }, NOW);
    expect(() =>
      readSessionBindingResponse(out.reply!, { key: keyOf("dev_b"), transactionId: req.transactionId }),
    ).toThrow(StunError);
  });

  test("corrupted session bindings never throw anything but StunError and never bind", () => {
    const { handler, rendezvous } = setup();
    const rand = new SeededRandom(1515);
    const good = buildSessionBinding({
      deviceId: "dev_a",
      key: keyOf("dev_a"),
      sessionId: "ses_1",
      now: NOW,
      local: v4("192.168.1.2", 5),
    }).bytes;
    for (let i = 0; i < 2000; i++) {
      const bad = good.slice(0, 1 + rand.below(good.byteLength));
      for (let k = 0; k < 3; k++) {
        const at = rand.below(bad.byteLength);
        bad[at] = bad[at]! ^ (1 + rand.below(255));
      }
      try {
        const out = handler.handle(bad, { address: "100.64.1.2", port: 1 }, NOW);
        expect(out.sessionBinding).toBeUndefined();
      } catch (err) {
        expect(err).toBeInstanceOf(StunError);
      }
    }
    expect(rendezvous.size).toBe(0);
  });

  test("SessionRendezvous forgets a meeting after its time to live", () => {
    const r = new SessionRendezvous(() => ({ callerId: "dev_a", calleeId: "dev_b" }), 1000);
    r.bind("dev_a", "ses_1", { mapped: v4("100.64.1.2", 1), now: NOW });
    expect(r.bind("dev_b", "ses_1", { mapped: v4("100.64.2.2", 2), now: NOW + 2000 })).toEqual({});
  });
});
