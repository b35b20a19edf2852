/** @module The control node's certificate pin: SHA-256 over the certificate's SubjectPublicKeyInfo, as HPKP (RFC 7469 2.4) defines it. */
import { createHash } from "node:crypto";
import { x509 } from "./x509-library.ts";

/** Written form of a pin: `sha256/` + standard base64 of the 32-byte digest (RFC 7469 2.1.1 pin-sha256). */
export const PIN_PREFIX = "sha256/";
/** SHA-256 output length (FIPS 180-4). */
const PIN_DIGEST_BYTES = 32;
const HEX_PIN = /^[0-9a-fA-F]{64}$/;
const BASE64_PIN = /^[A-Za-z0-9+/]{43}=$/;

/** A pin that is neither `sha256/BASE64` nor 64 hex digits. */
export class PinFormatError extends SyntaxError {
  readonly code = "ERR_PIN_FORMAT";
}

/**
 * The pin of a DER certificate. Synchronous on purpose: Bun's fetch calls `tls.checkServerIdentity` synchronously
 * on each handshake, and that is where a recorder compares it.
 */
export function certificatePin(der: Uint8Array): string {
  const spki = new Uint8Array(new x509.X509Certificate(der).publicKey.rawData);
  return PIN_PREFIX + createHash("sha256").update(spki).digest("base64");
}

/** The pin of a PEM certificate (the first one in the text). */
export function certificatePinOfPem(pem: string): string {
  return certificatePin(new Uint8Array(new x509.X509Certificate(pem).rawData));
}

/** Accepts `sha256/BASE64`, bare BASE64 or 64 hex digits (as an operator may read it out); returns `sha256/BASE64`. */
export function normalizePin(text: string): string {
  const t = text.trim();
  const body = t.startsWith(PIN_PREFIX) ? t.slice(PIN_PREFIX.length) : t;
  let digest: Buffer;
  if (HEX_PIN.test(body)) digest = Buffer.from(body, "hex");
  else if (BASE64_PIN.test(body)) digest = Buffer.from(body, "base64");
  else
    throw new PinFormatError(
      `Cannot read certificate pin '${t.slice(0, 80)}': not sha256/BASE64 or 64 hex digits`,
    );
  if (digest.byteLength !== PIN_DIGEST_BYTES)
    throw new PinFormatError("Cannot read certificate pin: not 32 bytes");
  return PIN_PREFIX + digest.toString("base64");
}
