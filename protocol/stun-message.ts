/** @module STUN message codec (RFC 8489 5, 14): header, attributes with padding, and the integrity/fingerprint trailer. */

import { type HmacKey, hmacSha1, hmacSha256 } from "../crypto/hmac.ts";
import { readU16, readU32, writeU16, writeU32 } from "./big-endian.ts";
import {
  ATTR_FINGERPRINT,
  ATTR_MESSAGE_INTEGRITY,
  ATTR_MESSAGE_INTEGRITY_SHA256,
  ATTRIBUTE_ALIGN,
  ATTRIBUTE_HEADER_BYTES,
  FINGERPRINT_BYTES,
  FINGERPRINT_XOR,
  MAGIC_COOKIE,
  MESSAGE_INTEGRITY_BYTES,
  MESSAGE_INTEGRITY_SHA256_BYTES,
  STUN_HEADER_BYTES,
  STUN_MAX_MESSAGE_BYTES,
  TRANSACTION_ID_BYTES,
} from "./stun-constants.ts";
import { crc32 } from "./stun-crc32.ts";
import { stunError } from "./stun-error.ts";

/** One attribute as found on the wire. `value` is a view into the message, not a copy. */
export interface StunAttribute {
  readonly type: number;
  readonly value: Uint8Array;
  /** Offset of the attribute's type field from the start of the message. */
  readonly offset: number;
}

/** A decoded STUN message. `bytes` is the message itself (a view), kept for integrity checks. */
export interface StunMessage {
  /** The 14-bit message type, method and class folded together (RFC 8489 5). */
  readonly type: number;
  readonly method: number;
  /** 0 request, 1 indication, 2 success response, 3 error response. */
  readonly cls: number;
  readonly transactionId: Uint8Array;
  /** Attributes in wire order, up to and including the last one a receiver must honour (RFC 8489 14.5-14.7). */
  readonly attributes: readonly StunAttribute[];
  readonly bytes: Uint8Array;
}

/** Splits a message type into method and class (RFC 8489 5, figure 3: C1 at bit 8, C0 at bit 4). */
export function splitMessageType(type: number): { method: number; cls: number } {
  const method = (type & 0x000f) | ((type & 0x00e0) >> 1) | ((type & 0x3e00) >> 2);
  const cls = ((type & 0x0100) >> 7) | ((type & 0x0010) >> 4);
  return { method, cls };
}

/** Folds method and class back into a message type. */
export function joinMessageType(method: number, cls: number): number {
  return (
    (method & 0x000f) |
    ((method & 0x0070) << 1) |
    ((method & 0x0f80) << 2) |
    ((cls & 2) << 7) |
    ((cls & 1) << 4)
  );
}

/** True when bytes look like a STUN message (RFC 8489 5 demultiplexing: top bits 00 and the magic cookie). */
export function isStunMessage(bytes: Uint8Array, offset = 0): boolean {
  if (bytes.byteLength - offset < STUN_HEADER_BYTES) return false;
  return (bytes[offset]! & 0xc0) === 0 && readU32(bytes, offset + 4) === MAGIC_COOKIE;
}

/**
 * Parses one STUN message occupying bytes[offset..] exactly (a UDP datagram). Rejects a bad header, a length
 * that disagrees with the datagram, an attribute overrunning the message, and anything after FINGERPRINT.
 * Attributes after MESSAGE-INTEGRITY other than MESSAGE-INTEGRITY-SHA256 and FINGERPRINT, and after
 * MESSAGE-INTEGRITY-SHA256 other than FINGERPRINT, are dropped as RFC 8489 14.5/14.6 require.
 */
export function decodeStunMessage(bytes: Uint8Array, offset = 0): StunMessage {
  const total = bytes.byteLength - offset;
  if (total < STUN_HEADER_BYTES) {
    throw stunError(
      "ERR_STUN_TRUNCATED",
      `Cannot parse STUN header: length ${total} is below ${STUN_HEADER_BYTES}`,
    );
  }
  const msg = offset === 0 ? bytes : bytes.subarray(offset);
  const type = readU16(msg, 0);
  if ((type & 0xc000) !== 0) {
    throw stunError(
      "ERR_STUN_NOT_STUN",
      "Cannot parse STUN header: the two most significant bits are not zero",
    );
  }
  if (readU32(msg, 4) !== MAGIC_COOKIE) {
    throw stunError("ERR_STUN_NOT_STUN", "Cannot parse STUN header: magic cookie is not 0x2112A442");
  }
  const length = readU16(msg, 2);
  if (length % ATTRIBUTE_ALIGN !== 0) {
    throw stunError("ERR_STUN_LENGTH", `Cannot parse STUN header: length ${length} is not a multiple of 4`);
  }
  if (length + STUN_HEADER_BYTES !== total) {
    throw stunError(
      "ERR_STUN_LENGTH",
      `Cannot parse STUN message: header length ${length} disagrees with ${total - STUN_HEADER_BYTES} bytes after the header`,
    );
  }
  const attributes: StunAttribute[] = [];
  // Views made as new Uint8Array(buffer, offset, length): half the cost of subarray, a view per attribute.
  const buffer = msg.buffer;
  const base = msg.byteOffset;
  let seenIntegrity = false;
  let seenIntegritySha256 = false;
  let seenFingerprint = false;
  let pos = STUN_HEADER_BYTES;
  while (pos < total) {
    if (total - pos < ATTRIBUTE_HEADER_BYTES) {
      throw stunError("ERR_STUN_TRUNCATED", `Cannot parse STUN attribute at ${pos}: header truncated`);
    }
    const attrType = readU16(msg, pos);
    const attrLen = readU16(msg, pos + 2);
    const valueStart = pos + ATTRIBUTE_HEADER_BYTES;
    if (valueStart + attrLen > total) {
      throw stunError(
        "ERR_STUN_TRUNCATED",
        `Cannot parse STUN attribute 0x${attrType.toString(16)} at ${pos}: length ${attrLen} overruns the message`,
      );
    }
    if (seenFingerprint) {
      throw stunError(
        "ERR_STUN_FINGERPRINT_NOT_LAST",
        "Cannot parse STUN message: attribute after FINGERPRINT",
      );
    }
    const value = new Uint8Array(buffer, base + valueStart, attrLen);
    const keep =
      attrType === ATTR_FINGERPRINT ||
      (attrType === ATTR_MESSAGE_INTEGRITY_SHA256 && !seenIntegritySha256) ||
      (!seenIntegrity && !seenIntegritySha256);
    if (keep) attributes.push({ type: attrType, value, offset: pos });
    if (attrType === ATTR_MESSAGE_INTEGRITY) seenIntegrity = true;
    if (attrType === ATTR_MESSAGE_INTEGRITY_SHA256) seenIntegritySha256 = true;
    if (attrType === ATTR_FINGERPRINT) seenFingerprint = true;
    pos = valueStart + padded(attrLen);
    if (pos > total) {
      throw stunError(
        "ERR_STUN_TRUNCATED",
        `Cannot parse STUN attribute at ${pos}: padding overruns the message`,
      );
    }
  }
  const { method, cls } = splitMessageType(type);
  return {
    type,
    method,
    cls,
    transactionId: new Uint8Array(buffer, base + 8, TRANSACTION_ID_BYTES),
    attributes,
    bytes: msg,
  };
}

/** First attribute of a type, or undefined. */
export function findAttribute(msg: StunMessage, type: number): StunAttribute | undefined {
  // A loop, not Array.find: a keepalive looks up nine attributes, and a closure per lookup showed in the node's
  // profile (docs/benchmarks.md, Control node).
  const attrs = msg.attributes;
  for (let i = 0; i < attrs.length; i++) if (attrs[i]!.type === type) return attrs[i];
  return undefined;
}

/** What to write: plain attributes, then the optional integrity and fingerprint trailer in RFC 8489 order. */
export interface StunMessageInit {
  readonly type: number;
  readonly transactionId: Uint8Array;
  readonly attributes?: ReadonlyArray<{ readonly type: number; readonly value: Uint8Array }>;
  /** Key for MESSAGE-INTEGRITY (HMAC-SHA1, RFC 8489 14.5). */
  readonly integrityKey?: Uint8Array;
  /** Key for MESSAGE-INTEGRITY-SHA256 (HMAC-SHA256, full 32-byte value, RFC 8489 14.6): bytes, or prepared once. */
  readonly integritySha256Key?: HmacKey;
  /** Append FINGERPRINT (RFC 8489 14.7). */
  readonly fingerprint?: boolean;
}

/** Builds a STUN message; throws RangeError when it would exceed STUN_MAX_MESSAGE_BYTES or a value 65535 bytes. */
export function encodeStunMessage(init: StunMessageInit): Uint8Array {
  if ((init.type & 0xc000) !== 0 || init.type < 0) {
    throw new RangeError(`Cannot encode STUN message: type 0x${init.type.toString(16)} exceeds 14 bits`);
  }
  if (init.transactionId.byteLength !== TRANSACTION_ID_BYTES) {
    throw new RangeError(
      `Cannot encode STUN message: transaction id length ${init.transactionId.byteLength} is not ${TRANSACTION_ID_BYTES}`,
    );
  }
  const attrs = init.attributes ?? [];
  let size = STUN_HEADER_BYTES;
  for (const a of attrs) {
    if (a.value.byteLength > 0xffff) {
      throw new RangeError(
        `Cannot encode STUN attribute 0x${a.type.toString(16)}: value exceeds 65535 bytes`,
      );
    }
    size += ATTRIBUTE_HEADER_BYTES + padded(a.value.byteLength);
  }
  if (init.integrityKey) size += ATTRIBUTE_HEADER_BYTES + MESSAGE_INTEGRITY_BYTES;
  if (init.integritySha256Key) size += ATTRIBUTE_HEADER_BYTES + MESSAGE_INTEGRITY_SHA256_BYTES;
  if (init.fingerprint) size += ATTRIBUTE_HEADER_BYTES + FINGERPRINT_BYTES;
  if (size > STUN_MAX_MESSAGE_BYTES) {
    throw new RangeError(`Cannot encode STUN message: ${size} bytes exceed ${STUN_MAX_MESSAGE_BYTES}`);
  }
  const out = pooledBytes(size);
  writeU16(out, 0, init.type);
  writeU32(out, 4, MAGIC_COOKIE);
  out.set(init.transactionId, 8);
  let pos = STUN_HEADER_BYTES;
  for (const a of attrs) pos = putAttribute(out, pos, a.type, a.value);
  // Each trailer attribute is computed over the message so far with the header length already counting it
  // (RFC 8489 14.5-14.7), so the length field is set before each digest.
  if (init.integrityKey) {
    writeU16(out, 2, pos + ATTRIBUTE_HEADER_BYTES + MESSAGE_INTEGRITY_BYTES - STUN_HEADER_BYTES);
    const mac = hmacSha1(init.integrityKey, head(out, pos));
    pos = putAttribute(out, pos, ATTR_MESSAGE_INTEGRITY, mac);
  }
  if (init.integritySha256Key) {
    writeU16(out, 2, pos + ATTRIBUTE_HEADER_BYTES + MESSAGE_INTEGRITY_SHA256_BYTES - STUN_HEADER_BYTES);
    const mac = hmacSha256(init.integritySha256Key, head(out, pos));
    pos = putAttribute(out, pos, ATTR_MESSAGE_INTEGRITY_SHA256, mac);
  }
  if (init.fingerprint) {
    writeU16(out, 2, pos + ATTRIBUTE_HEADER_BYTES + FINGERPRINT_BYTES - STUN_HEADER_BYTES);
    const crc = crc32(head(out, pos));
    writeU16(out, pos, ATTR_FINGERPRINT);
    writeU16(out, pos + 2, FINGERPRINT_BYTES);
    writeU32(out, pos + ATTRIBUTE_HEADER_BYTES, crc ^ FINGERPRINT_XOR);
    pos += ATTRIBUTE_HEADER_BYTES + FINGERPRINT_BYTES;
  }
  writeU16(out, 2, pos - STUN_HEADER_BYTES);
  return out;
}

/** Writes one attribute (header, value; the padding is already zero) at pos and returns the position after it. */
function putAttribute(out: Uint8Array, pos: number, type: number, value: Uint8Array): number {
  writeU16(out, pos, type);
  writeU16(out, pos + 2, value.byteLength);
  out.set(value, pos + ATTRIBUTE_HEADER_BYTES);
  return pos + ATTRIBUTE_HEADER_BYTES + padded(value.byteLength);
}

/** out's first n bytes, as a view over out's own ArrayBuffer (which pooledBytes guarantees exists). */
function head(out: Uint8Array, n: number): Uint8Array {
  return new Uint8Array(out.buffer, out.byteOffset, n);
}

/**
 * Bytes of the slab encoded messages are cut from, as Buffer.allocUnsafe cuts small buffers from a pool: a
 * message of its own ArrayBuffer cost a backing store to allocate and later free per keepalive answer, and a
 * small typed array made without one makes JavaScriptCore allocate and copy one at the first subarray or
 * `.buffer` (the digests below need views). The slab is never rewound, so every message starts on zeroed bytes
 * (the padding RFC 8489 14 wants zero is never written) and no view ever sees another message's later bytes.
 */
const POOL_BYTES = 64 * 1024;
let pool = new ArrayBuffer(POOL_BYTES);
let poolUsed = 0;

/** A zeroed view of size bytes over a shared, never-reused slab (size is at most STUN_MAX_MESSAGE_BYTES). */
function pooledBytes(size: number): Uint8Array {
  if (POOL_BYTES - poolUsed < size) {
    pool = new ArrayBuffer(POOL_BYTES);
    poolUsed = 0;
  }
  const out = new Uint8Array(pool, poolUsed, size);
  poolUsed += (size + 7) & ~7; // each message 8-byte aligned
  return out;
}

function padded(n: number): number {
  return (n + ATTRIBUTE_ALIGN - 1) & ~(ATTRIBUTE_ALIGN - 1);
}
