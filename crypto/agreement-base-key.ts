/** @module The HKDF base key of every recorder-to-recorder key: X25519(own private, peer public) followed by a key the two already share. */
import { importIdentityPublicKey } from "./x25519-identity.ts";

/** X25519 shared secret length in bits (RFC 7748 6.1). */
const SHARED_BITS = 256;

/**
 * Imports ikm = X25519(own, peer) ‖ mixIn as a non-extractable HKDF key (RFC 5869); both raw buffers are zeroed
 * once imported. The mix-in (the node's session key, or the transfer key) keeps the node's authorisation in
 * every key derived from it.
 */
export async function agreementBaseKey(o: {
  ownPrivateKey: CryptoKey;
  /** Raw 32-byte X25519 public key, base64url. */
  peerPublicKey: string;
  mixIn: Uint8Array;
  usage: "deriveBits" | "deriveKey";
}): Promise<CryptoKey> {
  const peer = await importIdentityPublicKey(o.peerPublicKey);
  const shared = new Uint8Array(
    await crypto.subtle.deriveBits({ name: "X25519", public: peer }, o.ownPrivateKey, SHARED_BITS),
  );
  const ikm = new Uint8Array(shared.byteLength + o.mixIn.byteLength);
  ikm.set(shared);
  ikm.set(o.mixIn, shared.byteLength);
  shared.fill(0);
  const base = await crypto.subtle.importKey("raw", ikm, "HKDF", false, [o.usage]);
  ikm.fill(0);
  return base;
}
