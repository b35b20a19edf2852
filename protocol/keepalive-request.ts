/** @module The device side of the keepalive: an authenticated STUN Binding Request and the check of its response. */
import { deriveKey } from "../crypto/hmac.ts";
import { randomBytes } from "../crypto/random-token.ts";
import { decodeXorMappedAddress, type TransportAddress } from "./stun-address.ts";
import { decodeErrorCode, encodeText, encodeU32, encodeU64 } from "./stun-attributes.ts";
import {
  ATTR_ERROR_CODE,
  ATTR_PVRLINK_INTERVAL,
  ATTR_PVRLINK_TIMESTAMP,
  ATTR_USERNAME,
  ATTR_XOR_MAPPED_ADDRESS,
  BINDING_ERROR,
  BINDING_REQUEST,
  BINDING_SUCCESS,
  TRANSACTION_ID_BYTES,
  USERNAME_MAX_BYTES,
} from "./stun-constants.ts";
import { stunError } from "./stun-error.ts";
import { checkFingerprint, verifyMessageIntegritySha256 } from "./stun-integrity.ts";
import { decodeStunMessage, encodeStunMessage, findAttribute } from "./stun-message.ts";

/** Default keepalive interval: NAT UDP mappings commonly expire after 30-120 s (RFC 4787 REQ-5 asks for >= 120 s). */
export const DEFAULT_KEEPALIVE_INTERVAL_SEC = 25;
/** Bounds the node accepts for an announced interval; outside them it clamps. */
export const MIN_KEEPALIVE_INTERVAL_SEC = 5;
export const MAX_KEEPALIVE_INTERVAL_SEC = 3600;
/** PVRLINK-TIMESTAMP must lie within this of the node's clock (the same window as HTTP request signing). */
export const KEEPALIVE_WINDOW_MS = 60_000;
/** A device counts as connected while its last keepalive is younger than this many intervals. */
export const KEEPALIVE_FRESH_INTERVALS = 3;

/** The STUN key of a device: its secret never keys a wire MAC directly. */
export function keepaliveKey(secret: Uint8Array): Uint8Array {
  return deriveKey(secret, "stun");
}

/**
 * Builds one keepalive: Binding Request with USERNAME = device id, PVRLINK-TIMESTAMP, PVRLINK-INTERVAL,
 * MESSAGE-INTEGRITY-SHA256 under the STUN key, and FINGERPRINT. Every attempt is a new transaction: the node
 * refuses a transaction id it has seen, so a lost response is retried with a fresh request, not a retransmit.
 */
export function buildKeepalive(opts: {
  deviceId: string;
  key: Uint8Array;
  now: number;
  intervalSec?: number;
  transactionId?: Uint8Array;
}): { bytes: Uint8Array; transactionId: Uint8Array } {
  const transactionId = opts.transactionId ?? randomBytes(TRANSACTION_ID_BYTES);
  const bytes = encodeStunMessage({
    type: BINDING_REQUEST,
    transactionId,
    attributes: [
      { type: ATTR_USERNAME, value: encodeText(opts.deviceId, USERNAME_MAX_BYTES) },
      { type: ATTR_PVRLINK_TIMESTAMP, value: encodeU64(opts.now) },
      { type: ATTR_PVRLINK_INTERVAL, value: encodeU32(opts.intervalSec ?? DEFAULT_KEEPALIVE_INTERVAL_SEC) },
    ],
    integritySha256Key: opts.key,
    fingerprint: true,
  });
  return { bytes, transactionId };
}

/**
 * Checks the node's answer to buildKeepalive(): same transaction, FINGERPRINT right if present, a Binding Success
 * whose MESSAGE-INTEGRITY-SHA256 verifies under the STUN key; returns the mapped address it reports.
 * Throws StunError: ERR_KEEPALIVE_REJECTED (with the node's error code), ERR_KEEPALIVE_UNAUTHENTICATED,
 * ERR_KEEPALIVE_MISMATCH, or a decoding error.
 */
export function readKeepaliveResponse(
  bytes: Uint8Array,
  opts: { key: Uint8Array; transactionId: Uint8Array },
): TransportAddress {
  const msg = decodeStunMessage(bytes);
  if (!Buffer.from(msg.transactionId).equals(Buffer.from(opts.transactionId))) {
    throw stunError(
      "ERR_KEEPALIVE_MISMATCH",
      "Cannot use STUN response: transaction id does not match the request",
    );
  }
  if (checkFingerprint(msg) === "bad") {
    throw stunError("ERR_KEEPALIVE_MISMATCH", "Cannot use STUN response: FINGERPRINT does not match");
  }
  if (msg.type === BINDING_ERROR) {
    const ec = findAttribute(msg, ATTR_ERROR_CODE);
    const detail = ec ? decodeErrorCode(ec.value) : { code: 0, reason: "no ERROR-CODE" };
    throw stunError("ERR_KEEPALIVE_REJECTED", `Keepalive refused by node: ${detail.code} ${detail.reason}`);
  }
  if (msg.type !== BINDING_SUCCESS) {
    throw stunError("ERR_KEEPALIVE_MISMATCH", `Cannot use STUN response: type 0x${msg.type.toString(16)}`);
  }
  if (!verifyMessageIntegritySha256(msg, opts.key)) {
    throw stunError("ERR_KEEPALIVE_UNAUTHENTICATED", "Cannot use STUN response: integrity check failed");
  }
  const xma = findAttribute(msg, ATTR_XOR_MAPPED_ADDRESS);
  if (!xma) throw stunError("ERR_KEEPALIVE_MISMATCH", "Cannot use STUN response: no XOR-MAPPED-ADDRESS");
  return decodeXorMappedAddress(xma.value, msg.transactionId);
}
