/** @module Forward secrecy for a direct connection: a fresh X25519 pair per side per connection, agreed and mixed with the transfer key into the key the frames use after the handshake. */

import { agreementBaseKey } from "./agreement-base-key.ts";
import { toBase64url } from "./random-token.ts";

const X25519 = { name: "X25519" } as const;
/** Versioned labels, so these keys never equal one derived for another purpose. */
const INFO_LABEL = "pvrlink/direct-fs/v1";
/** The relay stream a live send names in its OFFER on this connection (I-pictures, a secret recording). */
const RELAY_INFO_LABEL = "pvrlink/relay-fs/v1";

/** The two forward-secret keys of one direct connection. */
export interface ForwardSecretKeys {
  /** The direct channel's frames after the handshake. */
  frames: CryptoKey;
  /** The relay streams an OFFER on this connection names: what goes through the node while both are online. */
  relay: CryptoKey;
}

export interface EphemeralKey {
  /** Raw 32-byte public key, base64url: what the handshake message carries. */
  publicKey: string;
  /** Non-extractable; dropped with the connection, which is what makes the traffic forward-secret. */
  privateKey: CryptoKey;
}

/** A fresh pair from the platform CSPRNG; the private half can never be exported. */
export async function generateEphemeralKey(): Promise<EphemeralKey> {
  const pair = (await crypto.subtle.generateKey(X25519, false, ["deriveBits"])) as CryptoKeyPair;
  return {
    publicKey: toBase64url(new Uint8Array(await crypto.subtle.exportKey("raw", pair.publicKey))),
    privateKey: pair.privateKey,
  };
}

/**
 * The post-handshake keys, AES-256-GCM, non-extractable:
 * HKDF-SHA256(ikm = X25519(own ephemeral, peer ephemeral) ‖ transfer key, salt = the preamble's connection salt,
 * info = label ‖ 0 ‖ session id ‖ 0 ‖ caller's ephemeral ‖ 0 ‖ callee's ephemeral), one label for the frames and
 * one for the relay streams named on this connection. The transfer key keeps the session's authorisation and
 * the recorders' identities in them; the ephemeral agreement makes the frames, and what the node relayed for
 * this connection, unreadable later even to someone who then obtains both identity keys and the session key.
 */
export async function deriveForwardSecretKey(o: {
  own: EphemeralKey;
  peerPublicKey: string;
  role: "caller" | "callee";
  /** The transfer key, raw (32 bytes). */
  transferKey: Uint8Array;
  salt: Uint8Array;
  sessionId: string;
}): Promise<ForwardSecretKeys> {
  const base = await agreementBaseKey({
    ownPrivateKey: o.own.privateKey,
    peerPublicKey: o.peerPublicKey,
    mixIn: o.transferKey,
    usage: "deriveKey",
  });
  const [callerEph, calleeEph] =
    o.role === "caller" ? [o.own.publicKey, o.peerPublicKey] : [o.peerPublicKey, o.own.publicKey];
  const derive = (label: string) =>
    crypto.subtle.deriveKey(
      {
        name: "HKDF",
        hash: "SHA-256",
        salt: new Uint8Array(o.salt),
        info: new TextEncoder().encode(`${label}\0${o.sessionId}\0${callerEph}\0${calleeEph}`),
      },
      base,
      { name: "AES-GCM", length: 256 },
      false,
      ["encrypt", "decrypt"],
    );
  return { frames: await derive(INFO_LABEL), relay: await derive(RELAY_INFO_LABEL) };
}
