/** @module The transfer key the node cannot know: X25519 between the two recorders' identity keys, mixed with the node's session key through HKDF (RFC 5869). */

import { agreementBaseKey } from "./agreement-base-key.ts";
import { fromBase64url, toBase64url } from "./random-token.ts";

/** The session key's length: the mixed key replaces it byte for byte (crypto/aead.ts KEY_BYTES). */
const MIXED_KEY_BITS = 256;
/** HKDF salt: a fixed, versioned label (RFC 5869 3.1 allows a non-secret constant). */
const SALT = new TextEncoder().encode("pvrlink/content-key/v1");

/**
 * HKDF-SHA256 over ikm = X25519(own private, peer public) ‖ session key, with info = session id ‖ 0 ‖ caller's
 * public key ‖ callee's public key. Both recorders compute the same key, each with its own private key. The node
 * issued the session key but holds neither private key, so it cannot derive this one; and without the session
 * key the two recorders cannot make a session the node did not authorise. The info binds the result to this
 * session and to both identities, so a key substituted by the node gives a different key, not the same one.
 */
export async function mixSessionKey(o: {
  /** The node's session key, base64url, as the grant carries it. */
  sessionKey: string;
  sessionId: string;
  ownPrivateKey: CryptoKey;
  /** Raw public keys, base64url: the one that called and the one that was called. */
  callerPublicKey: string;
  calleePublicKey: string;
  /** Which of the two is this recorder. */
  role: "caller" | "callee";
}): Promise<string> {
  const session = fromBase64url(o.sessionKey);
  const hkdf = await agreementBaseKey({
    ownPrivateKey: o.ownPrivateKey,
    peerPublicKey: o.role === "caller" ? o.calleePublicKey : o.callerPublicKey,
    mixIn: session,
    usage: "deriveBits",
  });
  session.fill(0);
  const info = new TextEncoder().encode(`${o.sessionId}\0${o.callerPublicKey}\0${o.calleePublicKey}`);
  const mixed = new Uint8Array(
    await crypto.subtle.deriveBits({ name: "HKDF", hash: "SHA-256", salt: SALT, info }, hkdf, MIXED_KEY_BITS),
  );
  const out = toBase64url(mixed);
  mixed.fill(0);
  return out;
}
