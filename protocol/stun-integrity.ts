/** @module Verification of STUN MESSAGE-INTEGRITY (HMAC-SHA1), MESSAGE-INTEGRITY-SHA256 and FINGERPRINT (RFC 8489 14.5-14.7). */

import { type HmacKey, hmacSha1, hmacSha256, tagsEqual } from "../crypto/hmac.ts";
import { readU16, readU32, writeU16 } from "./big-endian.ts";
import {
  ATTR_FINGERPRINT,
  ATTR_MESSAGE_INTEGRITY,
  ATTR_MESSAGE_INTEGRITY_SHA256,
  ATTRIBUTE_HEADER_BYTES,
  FINGERPRINT_BYTES,
  FINGERPRINT_XOR,
  MESSAGE_INTEGRITY_BYTES,
  MESSAGE_INTEGRITY_SHA256_BYTES,
  MESSAGE_INTEGRITY_SHA256_MIN_BYTES,
  STUN_HEADER_BYTES,
} from "./stun-constants.ts";
import { crc32 } from "./stun-crc32.ts";
import { findAttribute, type StunAttribute, type StunMessage } from "./stun-message.ts";

/**
 * HMAC over the message up to the integrity attribute, with the header length rewritten to end just after that
 * attribute (RFC 8489 14.5/14.6), so attributes that follow (FINGERPRINT) do not enter the digest. The length is
 * rewritten in the message itself for the digest and put back before returning (nothing else runs meanwhile):
 * one contiguous view to hash, where three parts and a two-byte array cost more than the hash of a keepalive.
 */
function integrityDigest(msg: StunMessage, attr: StunAttribute, key: HmacKey, sha256: boolean): Uint8Array {
  const bytes = msg.bytes;
  const saved = readU16(bytes, 2);
  writeU16(bytes, 2, attr.offset + ATTRIBUTE_HEADER_BYTES + attr.value.byteLength - STUN_HEADER_BYTES);
  try {
    const covered = new Uint8Array(bytes.buffer, bytes.byteOffset, attr.offset);
    return sha256 ? hmacSha256(key, covered) : hmacSha1(key, covered);
  } finally {
    writeU16(bytes, 2, saved);
  }
}

/** True when MESSAGE-INTEGRITY (HMAC-SHA1) is present and correct under key. Constant-time compare. */
export function verifyMessageIntegrity(msg: StunMessage, key: Uint8Array): boolean {
  const attr = findAttribute(msg, ATTR_MESSAGE_INTEGRITY);
  if (!attr || attr.value.byteLength !== MESSAGE_INTEGRITY_BYTES) return false;
  return tagsEqual(integrityDigest(msg, attr, key, false), attr.value);
}

/**
 * True when MESSAGE-INTEGRITY-SHA256 is present and correct under key (bytes, or prepared once with
 * crypto/hmac.ts prepareHmacKey). Accepts the truncations RFC 8489 14.6 allows (16 to 32 bytes, multiples of 4),
 * comparing the leading bytes of the full HMAC in constant time.
 */
export function verifyMessageIntegritySha256(msg: StunMessage, key: HmacKey): boolean {
  const attr = findAttribute(msg, ATTR_MESSAGE_INTEGRITY_SHA256);
  if (!attr) return false;
  const n = attr.value.byteLength;
  if (n < MESSAGE_INTEGRITY_SHA256_MIN_BYTES || n > MESSAGE_INTEGRITY_SHA256_BYTES || n % 4 !== 0)
    return false;
  const mac = integrityDigest(msg, attr, key, true);
  // Untruncated (pvrlink's own keepalives) compares the digest as it is: no view of a fresh array to build.
  return tagsEqual(n === mac.byteLength ? mac : mac.subarray(0, n), attr.value);
}

/** "absent" when there is no FINGERPRINT, else whether its CRC-32 matches (RFC 8489 14.7). */
export function checkFingerprint(msg: StunMessage): "absent" | "ok" | "bad" {
  const attr = findAttribute(msg, ATTR_FINGERPRINT);
  if (!attr) return "absent";
  if (attr.value.byteLength !== FINGERPRINT_BYTES) return "bad";
  // FINGERPRINT is always last (the decoder enforces it), so the header length already covers it as 14.7 asks.
  const bytes = msg.bytes;
  const expected =
    (crc32(new Uint8Array(bytes.buffer, bytes.byteOffset, attr.offset)) ^ FINGERPRINT_XOR) >>> 0;
  const got = readU32(attr.value, 0);
  return expected === got ? "ok" : "bad";
}
