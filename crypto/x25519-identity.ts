/** @module A recorder's long-term X25519 identity key (RFC 7748): generation, the 0600 file's encoding, import as a non-extractable key, and the fingerprint owners read aloud. */
import { createHash } from "node:crypto";
import { fromBase64url, toBase64url } from "./random-token.ts";

/** RFC 7748 5: X25519 public keys (u-coordinates) are 32 bytes. */
export const X25519_PUBLIC_KEY_BYTES = 32;
const X25519 = { name: "X25519" } as const;
/** Domain separation: a fingerprint can never equal a hash computed for another purpose. */
const FINGERPRINT_LABEL = "pvrlink/identity-fingerprint/v1\0";
/** Six groups of five digits, like one party's half of a Signal safety number. */
const FINGERPRINT_GROUPS = 6;
/** Each group is five digest bytes as a 40-bit integer mod 100000 (Signal's NumericFingerprint encoding). */
const GROUP_BYTES = 5;
const GROUP_MODULUS = 100_000n;

/** A public key that is not 32 bytes of base64url. */
export class IdentityKeyError extends TypeError {
  readonly code = "ERR_IDENTITY_KEY";
}

export interface NewIdentity {
  /** Raw 32-byte public key, base64url: what the node stores and peers pin. */
  publicKey: string;
  /** PKCS#8 private key, base64url: exported once, here, to be written 0600; never sent anywhere. */
  privatePkcs8: string;
}

/** A fresh key pair from the platform CSPRNG (WebCrypto generateKey). */
export async function generateIdentity(): Promise<NewIdentity> {
  // Extractable only for this one export into the key file; loadIdentityPrivateKey imports it non-extractable.
  const pair = (await crypto.subtle.generateKey(X25519, true, ["deriveBits"])) as CryptoKeyPair;
  const pub = new Uint8Array(await crypto.subtle.exportKey("raw", pair.publicKey));
  const pkcs8 = new Uint8Array(await crypto.subtle.exportKey("pkcs8", pair.privateKey));
  return { publicKey: toBase64url(pub), privatePkcs8: toBase64url(pkcs8) };
}

/** The private key from its file encoding, non-extractable, usable only for key agreement. */
export function loadIdentityPrivateKey(privatePkcs8: string): Promise<CryptoKey> {
  const pkcs8 = new Uint8Array(fromBase64url(privatePkcs8));
  return crypto.subtle.importKey("pkcs8", pkcs8, X25519, false, ["deriveBits"]);
}

/** Checks a public key's encoding and length; returns the raw bytes. */
export function parseIdentityPublicKey(text: string): Uint8Array {
  let raw: Uint8Array;
  try {
    raw = fromBase64url(text);
  } catch {
    throw new IdentityKeyError("Cannot use identity key: not base64url");
  }
  if (raw.byteLength !== X25519_PUBLIC_KEY_BYTES)
    throw new IdentityKeyError(
      `Cannot use identity key: ${raw.byteLength} bytes, not ${X25519_PUBLIC_KEY_BYTES}`,
    );
  return raw;
}

/**
 * A peer's identity public key (raw, base64url) as a WebCrypto X25519 key, checked by parseIdentityPublicKey.
 * Extractable: it is public, and HPKE serialises the recipient's key into its key schedule (RFC 9180 4.1).
 */
export function importIdentityPublicKey(text: string): Promise<CryptoKey> {
  return crypto.subtle.importKey("raw", new Uint8Array(parseIdentityPublicKey(text)), X25519, true, []);
}

/**
 * Thirty digits in six groups ("12345 67890 ..."), from SHA-256 over a label and the public key. Two owners
 * compare them over the phone: a node that substituted a key would have to find a key with the same 100 bits.
 */
export function identityFingerprint(publicKey: string): string {
  const digest = createHash("sha256")
    .update(FINGERPRINT_LABEL)
    .update(parseIdentityPublicKey(publicKey))
    .digest();
  const groups: string[] = [];
  for (let g = 0; g < FINGERPRINT_GROUPS; g++) {
    const n = BigInt(`0x${digest.subarray(g * GROUP_BYTES, (g + 1) * GROUP_BYTES).toString("hex")}`);
    groups.push((n % GROUP_MODULUS).toString().padStart(5, "0"));
  }
  return groups.join(" ");
}
