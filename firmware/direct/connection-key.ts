/** @module The per-connection direct-channel key: derived from the session key and the caller's clear salt. */
import { importSessionKey } from "../../crypto/aead.ts";
import { deriveKey } from "../../crypto/hmac.ts";
import { toBase64url } from "../../crypto/random-token.ts";

/**
 * HKDF-SHA256(session key, info "pvrlink/direct/v1/" + base64url(salt)) imported as a non-extractable AES key.
 * crypto/aead.ts derives nonces from (stream, index) alone, so a second connection under the raw session key
 * (a caller retrying after a dropped TCP connection) would reuse nonces; a fresh salt per connection makes
 * every connection's key, and so every nonce, distinct.
 */
export async function deriveConnectionKey(sessionKey: Uint8Array, salt: Uint8Array): Promise<CryptoKey> {
  return importSessionKey(deriveKey(sessionKey, `direct/v1/${toBase64url(salt)}`));
}
