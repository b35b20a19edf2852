/** @module Signing and verifying control-node HTTP requests with a device's HTTP subkey (HMAC-SHA256 over a canonical string). */
import { createHash } from "node:crypto";
import { deriveKey, hmacSha256, tagsEqual } from "../crypto/hmac.ts";
import { fromBase64url, randomToken, toBase64url } from "../crypto/random-token.ts";
import {
  HEADER_CONTENT_SHA256,
  HEADER_DEVICE,
  HEADER_NONCE,
  HEADER_SIGNATURE,
  HEADER_TIMESTAMP,
  UNSIGNED_PAYLOAD,
} from "./api-types.ts";

/** HKDF purpose of the request-signing subkey: K_http = deriveKey(secret, "http"). */
export const HTTP_KEY_PURPOSE = "http";
/** Nonce length: 16 CSPRNG bytes, 128 bits, so two honest requests never collide within the window. */
export const NONCE_BYTES = 16;
/** Largest clock difference the node accepts between a request's timestamp and its own clock. */
export const MAX_CLOCK_SKEW_MS = 60_000;

/** The fields the signature covers, in canonical order. */
export interface SignedParts {
  method: string;
  /** Path plus query string exactly as sent, e.g. `/v1/transfers/t1/data?offset=0`. */
  pathAndQuery: string;
  timestamp: string;
  nonce: string;
  contentSha256: string;
}

/** Lower-case hex SHA-256 of a body (FIPS 180-4); the empty body hashes to e3b0c442...b855. */
export function sha256Hex(body: Uint8Array | string): string {
  return createHash("sha256").update(body).digest("hex");
}

/** METHOD \n PATH?QUERY \n timestamp \n nonce \n content-sha256; the method upper-cased. */
export function canonicalRequest(p: SignedParts): string {
  return `${p.method.toUpperCase()}\n${p.pathAndQuery}\n${p.timestamp}\n${p.nonce}\n${p.contentSha256}`;
}

/** base64url(HMAC-SHA256(K_http, canonical request)). */
export function computeSignature(httpKey: Uint8Array, p: SignedParts): string {
  return toBase64url(hmacSha256(httpKey, canonicalRequest(p)));
}

/** Constant-time check of a received signature; a malformed one is simply false. */
export function signatureMatches(httpKey: Uint8Array, p: SignedParts, signature: string): boolean {
  let given: Uint8Array;
  try {
    given = fromBase64url(signature);
  } catch {
    return false;
  }
  return tagsEqual(hmacSha256(httpKey, canonicalRequest(p)), given);
}

export interface SignOptions {
  deviceId: string;
  /** The device's HTTP subkey, deriveKey(secret, "http"); derive it once with httpKeyFromSecret. */
  httpKey: Uint8Array;
  method: string;
  pathAndQuery: string;
  /** The exact body bytes, or UNSIGNED_PAYLOAD for a streamed, AEAD-sealed data body. */
  body?: Uint8Array | string | typeof UNSIGNED_PAYLOAD;
  /** Unix ms; defaults to Date.now(). */
  now?: number;
  /** Defaults to 16 fresh CSPRNG bytes. */
  nonce?: string;
}

/** Derives K_http from the base64url device secret. */
export function httpKeyFromSecret(secret: string): Uint8Array {
  return deriveKey(fromBase64url(secret), HTTP_KEY_PURPOSE);
}

/** The five authentication headers for one request. */
export function signRequest(o: SignOptions): Record<string, string> {
  const contentSha256 =
    o.body === UNSIGNED_PAYLOAD ? UNSIGNED_PAYLOAD : sha256Hex(o.body === undefined ? "" : o.body);
  const parts: SignedParts = {
    method: o.method,
    pathAndQuery: o.pathAndQuery,
    timestamp: String(o.now ?? Date.now()),
    nonce: o.nonce ?? randomToken(NONCE_BYTES),
    contentSha256,
  };
  return {
    [HEADER_DEVICE]: o.deviceId,
    [HEADER_TIMESTAMP]: parts.timestamp,
    [HEADER_NONCE]: parts.nonce,
    [HEADER_CONTENT_SHA256]: contentSha256,
    [HEADER_SIGNATURE]: computeSignature(o.httpKey, parts),
  };
}
