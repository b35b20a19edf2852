/** @module CSPRNG-backed identifiers, passwords and secrets, encoded base64url. */

/** n random bytes from the platform CSPRNG (crypto.getRandomValues). */
export function randomBytes(n: number): Uint8Array {
  return crypto.getRandomValues(new Uint8Array(n));
}

/** A base64url string of n random bytes: 16 bytes give 128 bits, enough for IDs and one-time passwords. */
export function randomToken(n = 16): string {
  return Buffer.from(randomBytes(n)).toString("base64url");
}

/** Decodes base64url (as produced by randomToken) to bytes, rejecting anything else. */
export function fromBase64url(s: string): Uint8Array {
  if (!/^[A-Za-z0-9_-]*$/.test(s)) throw new SyntaxError("Cannot decode base64url: invalid character");
  return new Uint8Array(Buffer.from(s, "base64url"));
}

/** Encodes bytes as base64url without padding. */
export function toBase64url(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString("base64url");
}
