/** @module Tests for KeepaliveHandler.handle(): STUN answers and errors for plain, authenticated and malformed requests. */
import { describe, expect, test } from "bun:test";
import { deriveKey } from "../../crypto/hmac.ts";
import { buildKeepalive } from "../../protocol/keepalive-request.ts";
import { decodeXorMappedAddress } from "../../protocol/stun-address.ts";
import {
  decodeErrorCode,
  decodeUnknownAttributes,
  encodeText,
  encodeU64,
} from "../../protocol/stun-attributes.ts";
import {
  ATTR_ERROR_CODE,
  ATTR_PVRLINK_TIMESTAMP,
  ATTR_UNKNOWN_ATTRIBUTES,
  ATTR_USERNAME,
  ATTR_XOR_MAPPED_ADDRESS,
  BINDING_ERROR,
  BINDING_REQUEST,
  BINDING_SUCCESS,
} from "../../protocol/stun-constants.ts";
import {
  decodeStunMessage,
  encodeStunMessage,
  findAttribute,
  joinMessageType,
} from "../../protocol/stun-message.ts";
import { KeepaliveHandler } from "./keepalive-handler.ts";

const secret = new Uint8Array(32).fill(9);
const key = deriveKey(secret, "stun");
const NOW = 1_800_000_000_000;
const TXID = new Uint8Array(12).fill(4);
const handler = () => new KeepaliveHandler((id) => (id === "dev_h" ? secret : null));

const answer = (reply: Uint8Array | null) => {
  if (!reply) return "dropped";
  const m = decodeStunMessage(reply);
  const ec = findAttribute(m, ATTR_ERROR_CODE);
  return ec ? decodeErrorCode(ec.value).code : m.type === BINDING_SUCCESS ? "success" : `type ${m.type}`;
};

describe("KeepaliveHandler.handle()", () => {
  const cases: Array<[string, Uint8Array, number | string, boolean]> = [
    [
      "answers a plain Binding Request without registering",
      encodeStunMessage({ type: BINDING_REQUEST, transactionId: TXID }),
      "success",
      false,
    ],
    [
      "registers a keepalive with a verified MESSAGE-INTEGRITY-SHA256",
      buildKeepalive({ deviceId: "dev_h", key, now: NOW }).bytes,
      "success",
      true,
    ],
    [
      "answers 420 for an unknown comprehension-required attribute",
      encodeStunMessage({
        type: BINDING_REQUEST,
        transactionId: TXID,
        attributes: [{ type: 0x0777, value: new Uint8Array(4) }],
      }),
      420,
      false,
    ],
    [
      "ignores an unknown comprehension-optional attribute",
      encodeStunMessage({
        type: BINDING_REQUEST,
        transactionId: TXID,
        attributes: [{ type: 0xc777, value: new Uint8Array(4) }],
      }),
      "success",
      false,
    ],
    [
      "answers 400 for another method",
      encodeStunMessage({ type: joinMessageType(0x003, 0), transactionId: TXID }),
      400,
      false,
    ],
    [
      "drops an indication",
      encodeStunMessage({ type: joinMessageType(1, 1), transactionId: TXID }),
      "dropped",
      false,
    ],
    ["drops a response", encodeStunMessage({ type: BINDING_SUCCESS, transactionId: TXID }), "dropped", false],
    [
      "answers 401 to MESSAGE-INTEGRITY (SHA-1) alone: keepalives must use SHA-256",
      encodeStunMessage({
        type: BINDING_REQUEST,
        transactionId: TXID,
        attributes: [
          { type: ATTR_USERNAME, value: encodeText("dev_h") },
          { type: ATTR_PVRLINK_TIMESTAMP, value: encodeU64(NOW) },
        ],
        integrityKey: key,
      }),
      401,
      false,
    ],
    [
      "answers 401 to integrity without USERNAME",
      encodeStunMessage({ type: BINDING_REQUEST, transactionId: TXID, integritySha256Key: key }),
      401,
      false,
    ],
    [
      "answers 401 to a valid MAC without a timestamp",
      encodeStunMessage({
        type: BINDING_REQUEST,
        transactionId: TXID,
        attributes: [{ type: ATTR_USERNAME, value: encodeText("dev_h") }],
        integritySha256Key: key,
      }),
      401,
      false,
    ],
    [
      "answers 401 to USERNAME that is not UTF-8",
      encodeStunMessage({
        type: BINDING_REQUEST,
        transactionId: TXID,
        attributes: [{ type: ATTR_USERNAME, value: Uint8Array.from([0xff, 0xfe]) }],
        integritySha256Key: key,
      }),
      401,
      false,
    ],
  ];
  for (const [name, bytes, expected, registers] of cases) {
    test(`handle() ${name}`, () => {
      const out = handler().handle(bytes, { address: "192.0.2.5", port: 4000 }, NOW);
      expect(answer(out.reply)).toBe(expected);
      expect(out.registration !== null).toBe(registers);
    });
  }

  test("handle() names the unknown attributes in a 420", () => {
    const bytes = encodeStunMessage({
      type: BINDING_REQUEST,
      transactionId: TXID,
      attributes: [
        { type: 0x0777, value: new Uint8Array(0) },
        { type: 0x0778, value: new Uint8Array(0) },
      ],
    });
    const m = decodeStunMessage(handler().handle(bytes, { address: "192.0.2.5", port: 4000 }, NOW).reply!);
    expect(m.type).toBe(BINDING_ERROR);
    expect(decodeUnknownAttributes(findAttribute(m, ATTR_UNKNOWN_ATTRIBUTES)!.value)).toEqual([
      0x0777, 0x0778,
    ]);
  });

  test("handle() drops a request whose FINGERPRINT is wrong", () => {
    const b = buildKeepalive({ deviceId: "dev_h", key, now: NOW }).bytes;
    b[b.byteLength - 1] = b[b.byteLength - 1]! ^ 1;
    expect(handler().handle(b, { address: "192.0.2.5", port: 4000 }, NOW)).toMatchObject({
      reply: null,
      registration: null,
    });
  });

  test("handle() reports an IPv6 source and an IPv4-mapped source correctly", () => {
    const h = handler();
    for (const [src, want] of [
      ["2001:db8::7", "2001:db8::7"],
      ["::ffff:198.51.100.9", "198.51.100.9"],
    ]) {
      const out = h.handle(
        encodeStunMessage({ type: BINDING_REQUEST, transactionId: TXID }),
        { address: src!, port: 5555 },
        NOW,
      );
      const m = decodeStunMessage(out.reply!);
      expect(decodeXorMappedAddress(findAttribute(m, ATTR_XOR_MAPPED_ADDRESS)!.value, TXID)).toMatchObject({
        address: want,
        port: 5555,
      });
    }
  });

  test("handle() picks up a rotated secret after a cached key stops verifying", () => {
    let current = secret;
    const h = new KeepaliveHandler(() => current);
    expect(
      h.handle(
        buildKeepalive({ deviceId: "dev_h", key, now: NOW }).bytes,
        { address: "192.0.2.5", port: 1 },
        NOW,
      ).registration,
    ).not.toBeNull();
    current = new Uint8Array(32).fill(10);
    const fresh = buildKeepalive({ deviceId: "dev_h", key: deriveKey(current, "stun"), now: NOW }).bytes;
    expect(h.handle(fresh, { address: "192.0.2.5", port: 1 }, NOW).registration).not.toBeNull();
    const old = buildKeepalive({ deviceId: "dev_h", key, now: NOW }).bytes;
    expect(h.handle(old, { address: "192.0.2.5", port: 1 }, NOW).registration).toBeNull();
  });
});
