/** @module Tests for the keepalive request and response against the node's own handler. */
import { describe, expect, test } from "bun:test";
import { KeepaliveHandler } from "../control/udp/keepalive-handler.ts";
import { buildKeepalive, keepaliveKey, readKeepaliveResponse } from "./keepalive-request.ts";
import { encodeXorMappedAddress } from "./stun-address.ts";
import { ATTR_XOR_MAPPED_ADDRESS, BINDING_SUCCESS } from "./stun-constants.ts";
import { StunError } from "./stun-error.ts";
import { encodeStunMessage } from "./stun-message.ts";

const secret = new Uint8Array(32).fill(5);
const key = keepaliveKey(secret);
const NOW = 1_800_000_000_000;

const errCode = (f: () => unknown) => {
  try {
    f();
    return "ok";
  } catch (e) {
    expect(e).toBeInstanceOf(StunError);
    return (e as StunError).code;
  }
};

describe("keepalive request", () => {
  test("buildKeepalive() is answered by the node's handler and readKeepaliveResponse() reads the mapping", () => {
    const handler = new KeepaliveHandler((id) => (id === "dev_k" ? secret : null));
    const { bytes, transactionId } = buildKeepalive({ deviceId: "dev_k", key, now: NOW, intervalSec: 40 });
    const out = handler.handle(bytes, { address: "203.0.113.7", port: 40001 }, NOW);
    expect(out.registration).toEqual({
      deviceId: "dev_k",
      address: "203.0.113.7",
      port: 40001,
      intervalSec: 40,
    });
    expect(readKeepaliveResponse(out.reply!, { key, transactionId })).toEqual({
      family: "IPv4",
      address: "203.0.113.7",
      port: 40001,
    });
  });

  test("readKeepaliveResponse() rejects a response for another transaction, an unsigned one, and an error", () => {
    const { transactionId } = buildKeepalive({ deviceId: "dev_k", key, now: NOW });
    const other = buildKeepalive({ deviceId: "dev_k", key, now: NOW });
    const unsigned = encodeStunMessage({
      type: BINDING_SUCCESS,
      transactionId,
      attributes: [
        {
          type: ATTR_XOR_MAPPED_ADDRESS,
          value: encodeXorMappedAddress({ family: "IPv4", address: "6.6.6.6", port: 1 }, transactionId),
        },
      ],
    });
    expect(errCode(() => readKeepaliveResponse(unsigned, { key, transactionId }))).toBe(
      "ERR_KEEPALIVE_UNAUTHENTICATED",
    );
    const forged = encodeStunMessage({
      type: BINDING_SUCCESS,
      transactionId,
      integritySha256Key: new Uint8Array(32),
    });
    expect(errCode(() => readKeepaliveResponse(forged, { key, transactionId }))).toBe(
      "ERR_KEEPALIVE_UNAUTHENTICATED",
    );
    const handler = new KeepaliveHandler(() => null);
    const refused = handler.handle(other.bytes, { address: "198.51.100.1", port: 1 }, NOW).reply!;
    expect(errCode(() => readKeepaliveResponse(refused, { key, transactionId }))).toBe(
      "ERR_KEEPALIVE_MISMATCH",
    );
    expect(errCode(() => readKeepaliveResponse(refused, { key, transactionId: other.transactionId }))).toBe(
      "ERR_KEEPALIVE_REJECTED",
    );
  });
});
