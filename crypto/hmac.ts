/** @module HMAC tags and constant-time checks for authenticating requests, keepalives and triggers. */
import { createHmac, createSecretKey, hkdfSync, type KeyObject, timingSafeEqual } from "node:crypto";

/** HMAC-SHA256 output length (RFC 2104 with SHA-256, FIPS 180-4). */
export const HMAC_BYTES = 32;

/**
 * An HMAC key: its bytes, or the KeyObject prepareHmacKey() made of them once. A key given as bytes is imported
 * again by every createHmac; a prepared one is not (a third of a keepalive MAC's cost, docs/benchmarks.md).
 */
export type HmacKey = Uint8Array | KeyObject;

/** The key as node:crypto holds it, for a key that MACs many messages (a device's STUN key on the UDP path). */
export function prepareHmacKey(key: Uint8Array): KeyObject {
  return createSecretKey(key);
}

/** HMAC-SHA256 of the concatenated parts under key. node:crypto is synchronous, which keeps the UDP path cheap. */
export function hmacSha256(key: HmacKey, ...parts: Array<Uint8Array | string>): Uint8Array {
  const h = createHmac("sha256", key);
  for (const p of parts) h.update(p);
  return new Uint8Array(h.digest());
}

/**
 * HMAC-SHA1 of the concatenated parts under key: only for STUN MESSAGE-INTEGRITY, which RFC 8489 14.5 fixes to
 * SHA-1 (pvrlink's own keepalives authenticate with MESSAGE-INTEGRITY-SHA256).
 */
export function hmacSha1(key: HmacKey, ...parts: Array<Uint8Array | string>): Uint8Array {
  const h = createHmac("sha1", key);
  for (const p of parts) h.update(p);
  return new Uint8Array(h.digest());
}

/** Constant-time equality of two tags; a length mismatch is simply false. */
export function tagsEqual(a: Uint8Array, b: Uint8Array): boolean {
  return a.byteLength === b.byteLength && timingSafeEqual(a, b);
}

/**
 * Derives a purpose-bound subkey from a device secret (RFC 5869 HKDF-SHA256), so the secret itself never keys
 * a wire MAC and one purpose's key says nothing about another's.
 */
export function deriveKey(secret: Uint8Array, purpose: string, bytes = 32): Uint8Array {
  return new Uint8Array(hkdfSync("sha256", secret, new Uint8Array(0), `pvrlink/${purpose}`, bytes));
}
