/** @module Hole-punch probes: fixed-size UDP datagrams authenticated under a key derived from the session key. */
import { deriveKey, HMAC_BYTES, hmacSha256, tagsEqual } from "../crypto/hmac.ts";

/*
 * Layout (docs/protocol.md "Hole-punch probes"), all fixed, 88 bytes:
 *   0  magic "PVRH"          4
 *   4  version 1             1
 *   5  kind (PROBE | ACK)    1
 *   6  role (caller|callee)  1
 *   7  reserved, 0           1
 *   8  nonce                 16   PROBE: fresh; ACK: the PROBE's nonce echoed
 *  24  fingerprint           32   callee: SHA-256 of its QUIC certificate; caller: zeros
 *  56  tag                   32   HMAC-SHA256(punch key, "pvrlink/punch/1" || session id || bytes 0..55)
 * The session id is not on the wire: it is bound through the tag, so a probe from another session, or one a
 * stranger made, fails the tag; nothing about the session is visible to a router or eavesdropper.
 */
export const PUNCH_MAGIC = Uint8Array.from([0x50, 0x56, 0x52, 0x48]);
export const PUNCH_VERSION = 1;
export const KIND_PROBE = 1;
export const KIND_ACK = 2;
export const ROLE_CALLER = 0;
export const ROLE_CALLEE = 1;
export const PUNCH_NONCE_BYTES = 16;
export const PUNCH_FINGERPRINT_BYTES = 32;
const TAG_AT = 56;
export const PUNCH_PROBE_BYTES = TAG_AT + HMAC_BYTES;
const TAG_LABEL = "pvrlink/punch/1";

export type PunchKind = "probe" | "ack";
export type PunchRole = "caller" | "callee";

export interface PunchProbe {
  kind: PunchKind;
  role: PunchRole;
  nonce: Uint8Array;
  /** SHA-256 of the callee's QUIC certificate (32 bytes); all zeros from the caller. */
  fingerprint: Uint8Array;
}

/** The punch key: a purpose-bound subkey of the session key, so a probe tag says nothing about other uses. */
export function punchKey(sessionKey: Uint8Array): Uint8Array {
  return deriveKey(sessionKey, "punch");
}

function tag(key: Uint8Array, sessionId: string, body: Uint8Array): Uint8Array {
  return hmacSha256(key, TAG_LABEL, sessionId, body);
}

export function encodePunchProbe(p: PunchProbe, key: Uint8Array, sessionId: string): Uint8Array {
  if (p.nonce.byteLength !== PUNCH_NONCE_BYTES) {
    throw new RangeError(`Cannot encode punch probe: nonce is ${p.nonce.byteLength} bytes, not 16`);
  }
  if (p.fingerprint.byteLength !== PUNCH_FINGERPRINT_BYTES) {
    throw new RangeError(
      `Cannot encode punch probe: fingerprint is ${p.fingerprint.byteLength} bytes, not 32`,
    );
  }
  const out = new Uint8Array(PUNCH_PROBE_BYTES);
  out.set(PUNCH_MAGIC, 0);
  out[4] = PUNCH_VERSION;
  out[5] = p.kind === "probe" ? KIND_PROBE : KIND_ACK;
  out[6] = p.role === "caller" ? ROLE_CALLER : ROLE_CALLEE;
  out.set(p.nonce, 8);
  out.set(p.fingerprint, 24);
  out.set(tag(key, sessionId, out.subarray(0, TAG_AT)), TAG_AT);
  return out;
}

/** True when bytes look like a punch probe (magic and size), before any authentication. */
export function isPunchProbe(bytes: Uint8Array): boolean {
  return bytes.byteLength === PUNCH_PROBE_BYTES && PUNCH_MAGIC.every((b, i) => bytes[i] === b);
}

/**
 * Authenticates and decodes a probe; returns null for anything that is not a valid probe of this session (wrong
 * size, magic, version, kind, role, or tag): a punch socket sees strangers' datagrams and ignores them silently.
 */
export function decodePunchProbe(bytes: Uint8Array, key: Uint8Array, sessionId: string): PunchProbe | null {
  if (!isPunchProbe(bytes) || bytes[4] !== PUNCH_VERSION || bytes[7] !== 0) return null;
  if (!tagsEqual(tag(key, sessionId, bytes.subarray(0, TAG_AT)), bytes.subarray(TAG_AT))) return null;
  const kind = bytes[5] === KIND_PROBE ? "probe" : bytes[5] === KIND_ACK ? "ack" : null;
  const role = bytes[6] === ROLE_CALLER ? "caller" : bytes[6] === ROLE_CALLEE ? "callee" : null;
  if (!kind || !role) return null;
  return { kind, role, nonce: bytes.slice(8, 24), fingerprint: bytes.slice(24, TAG_AT) };
}
