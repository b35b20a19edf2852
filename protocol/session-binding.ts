/** @module The device side of a session binding: an authenticated STUN request from a per-session socket, and its answer. */
import { randomBytes } from "../crypto/random-token.ts";
import { readKeepaliveResponse } from "./keepalive-request.ts";
import { decodeXorMappedAddress, encodeXorMappedAddress, type TransportAddress } from "./stun-address.ts";
import { encodeText, encodeU64 } from "./stun-attributes.ts";
import {
  ATTR_PVRLINK_LOCAL_ADDRESS,
  ATTR_PVRLINK_PEER_ADDRESS,
  ATTR_PVRLINK_PEER_LOCAL_ADDRESS,
  ATTR_PVRLINK_SESSION,
  ATTR_PVRLINK_TIMESTAMP,
  ATTR_USERNAME,
  BINDING_REQUEST,
  TRANSACTION_ID_BYTES,
  USERNAME_MAX_BYTES,
} from "./stun-constants.ts";
import { decodeStunMessage, encodeStunMessage, findAttribute } from "./stun-message.ts";

/** Longest session id the attribute carries (session ids are 16-byte base64url tokens, 22 characters). */
export const SESSION_ID_MAX_BYTES = 64;

/** What a session binding's answer tells: this socket's public mapping and, once the peer bound, the peer's. */
export interface SessionBindingAnswer {
  readonly mapped: TransportAddress;
  /** The peer's per-session mapping; absent until the peer's own binding reached the node. */
  readonly peer?: TransportAddress;
  /** The peer's LAN address: only when both sit behind one public address, and only ever to the session's peer. */
  readonly peerLocal?: TransportAddress;
}

/**
 * Builds a session binding: a keepalive-shaped Binding Request (USERNAME = device id, PVRLINK-TIMESTAMP,
 * MESSAGE-INTEGRITY-SHA256 under the device's STUN key, FINGERPRINT) plus PVRLINK-SESSION and, optionally, the
 * socket's LAN address. It never carries PVRLINK-INTERVAL: it is not a keepalive and moves no trigger mapping.
 */
export function buildSessionBinding(opts: {
  deviceId: string;
  key: Uint8Array;
  sessionId: string;
  now: number;
  local?: TransportAddress;
}): { bytes: Uint8Array; transactionId: Uint8Array } {
  const transactionId = randomBytes(TRANSACTION_ID_BYTES);
  const attributes = [
    { type: ATTR_USERNAME, value: encodeText(opts.deviceId, USERNAME_MAX_BYTES) },
    { type: ATTR_PVRLINK_TIMESTAMP, value: encodeU64(opts.now) },
    { type: ATTR_PVRLINK_SESSION, value: encodeText(opts.sessionId, SESSION_ID_MAX_BYTES) },
  ];
  if (opts.local) {
    attributes.push({
      type: ATTR_PVRLINK_LOCAL_ADDRESS,
      value: encodeXorMappedAddress(opts.local, transactionId),
    });
  }
  const bytes = encodeStunMessage({
    type: BINDING_REQUEST,
    transactionId,
    attributes,
    integritySha256Key: opts.key,
    fingerprint: true,
  });
  return { bytes, transactionId };
}

/**
 * Checks the node's answer exactly as a keepalive's (transaction, FINGERPRINT, integrity under the STUN key; see
 * readKeepaliveResponse for the error codes) and reads the peer's addresses, which only an authenticated answer
 * may carry.
 */
export function readSessionBindingResponse(
  bytes: Uint8Array,
  opts: { key: Uint8Array; transactionId: Uint8Array },
): SessionBindingAnswer {
  const mapped = readKeepaliveResponse(bytes, opts);
  const msg = decodeStunMessage(bytes);
  const peer = findAttribute(msg, ATTR_PVRLINK_PEER_ADDRESS);
  const peerLocal = findAttribute(msg, ATTR_PVRLINK_PEER_LOCAL_ADDRESS);
  return {
    mapped,
    ...(peer ? { peer: decodeXorMappedAddress(peer.value, msg.transactionId) } : {}),
    ...(peerLocal ? { peerLocal: decodeXorMappedAddress(peerLocal.value, msg.transactionId) } : {}),
  };
}
