/** @module The store-and-forward key: HPKE (RFC 9180) from the sender to the callee's identity key, its exported secret mixed with the transfer key. */
import {
  CipherSuite,
  DhkemX25519HkdfSha256,
  ExportOnly,
  HkdfSha256,
  type RecipientContextParams,
} from "@hpke/core";
import { DecryptError } from "./aead.ts";
import { fromBase64url, toBase64url } from "./random-token.ts";
import { importIdentityPublicKey, X25519_PUBLIC_KEY_BYTES } from "./x25519-identity.ts";

/** DHKEM(X25519) enc: the ephemeral public key, 32 bytes (RFC 9180 7.1, Nenc). */
export const STORE_ENC_BYTES = X25519_PUBLIC_KEY_BYTES;
/** HPKE info (RFC 9180 5.1): a versioned label, then the session id, so an enc is good for one session only. */
const INFO_LABEL = "pvrlink/store/v1\0";
/** HPKE exporter context (RFC 9180 5.3): what the exported secret is for. */
const EXPORTER_CONTEXT = new TextEncoder().encode("pvrlink/store-key/v1");
/** The exported secret and the store key: 256 bits, like the transfer key they sit beside (crypto/aead.ts KEY_BYTES). */
const SECRET_BYTES = 32;
/** HKDF salt of the final mix: a fixed, versioned label (RFC 5869 3.1). */
const MIX_SALT = new TextEncoder().encode("pvrlink/store-mix/v1");

/**
 * DHKEM(X25519, HKDF-SHA256), HKDF-SHA256, export-only AEAD (0xFFFF, RFC 9180 7.3): pvrlink seals the stream with
 * its own AES-GCM records (crypto/aead.ts), so HPKE only has to agree a secret (the exporter interface, 5.3).
 */
const SUITE = new CipherSuite({
  kem: new DhkemX25519HkdfSha256(),
  kdf: new HkdfSha256(),
  aead: new ExportOnly(),
});

/** What a store sender keeps: the encapsulation the callee needs, and the key the stream is sealed under. */
export interface StoreKey {
  /** The HPKE encapsulated key (the ephemeral public key), 32 bytes: sent in clear ahead of the stream. */
  enc: Uint8Array;
  /** The store key, base64url: it takes the transfer key's place for the store stream. */
  key: string;
}

function hpkeInfo(sessionId: string): Uint8Array {
  return new TextEncoder().encode(INFO_LABEL + sessionId);
}

/**
 * key = HKDF-SHA256(ikm = HPKE export ‖ transfer key, salt = label, info = session id ‖ 0 ‖ enc). The export
 * needs the callee's private key or the ephemeral one (gone once this returns), so a later theft of the sender's
 * identity key, even with the node's session key, opens nothing; the transfer key keeps the node's authorisation
 * and the sender's identity in it, so an enc the node made itself gives a key that opens nothing either.
 */
async function mix(exported: Uint8Array, o: { transferKey: string; sessionId: string; enc: Uint8Array }) {
  const transfer = fromBase64url(o.transferKey);
  const ikm = new Uint8Array(exported.byteLength + transfer.byteLength);
  ikm.set(exported);
  ikm.set(transfer, exported.byteLength);
  exported.fill(0);
  transfer.fill(0);
  const base = await crypto.subtle.importKey("raw", ikm, "HKDF", false, ["deriveBits"]);
  ikm.fill(0);
  const id = new TextEncoder().encode(`${o.sessionId}\0`);
  const info = new Uint8Array(id.byteLength + o.enc.byteLength);
  info.set(id);
  info.set(o.enc, id.byteLength);
  const key = new Uint8Array(
    await crypto.subtle.deriveBits(
      { name: "HKDF", hash: "SHA-256", salt: MIX_SALT, info },
      base,
      SECRET_BYTES * 8,
    ),
  );
  const out = toBase64url(key);
  key.fill(0);
  return out;
}

/**
 * The sender's side (SetupBaseS, RFC 9180 5.1.1): a fresh ephemeral key pair encapsulates to the callee's
 * identity public key (raw, base64url), and the store key is derived from the export and the transfer key.
 * Base mode, not Auth: the sender's identity is already in the transfer key mixed in (X25519 of the two
 * identity keys), and Auth mode's second DH would be that same static-static secret again.
 */
export async function sealStoreKey(o: {
  calleePublicKey: string;
  /** The transfer key (firmware/identity/transfer-key.ts), base64url. */
  transferKey: string;
  sessionId: string;
}): Promise<StoreKey> {
  const recipientPublicKey = await importIdentityPublicKey(o.calleePublicKey);
  const sender = await SUITE.createSenderContext({ recipientPublicKey, info: hpkeInfo(o.sessionId) });
  const enc = new Uint8Array(sender.enc);
  const exported = new Uint8Array(await sender.export(EXPORTER_CONTEXT, SECRET_BYTES));
  return { enc, key: await mix(exported, { transferKey: o.transferKey, sessionId: o.sessionId, enc }) };
}

/**
 * The callee's side (SetupBaseR, RFC 9180 5.1.1): the same store key from enc and the callee's identity key pair.
 * An enc that cannot be decapsulated (not 32 bytes, a low-order point) is a DecryptError with no detail; any
 * other wrong enc, key or session gives a different key, under which the stream's first record fails to open.
 */
export async function openStoreKey(o: {
  enc: Uint8Array;
  /** This recorder's identity: its non-extractable private key and its raw public key, base64url. */
  calleePrivateKey: CryptoKey;
  calleePublicKey: string;
  transferKey: string;
  sessionId: string;
}): Promise<string> {
  if (o.enc.byteLength !== STORE_ENC_BYTES) throw new DecryptError();
  let exported: Uint8Array;
  try {
    const publicKey = await importIdentityPublicKey(o.calleePublicKey);
    const params: RecipientContextParams = {
      recipientKey: { privateKey: o.calleePrivateKey, publicKey },
      enc: new Uint8Array(o.enc),
      info: hpkeInfo(o.sessionId),
    };
    const recipient = await SUITE.createRecipientContext(params);
    exported = new Uint8Array(await recipient.export(EXPORTER_CONTEXT, SECRET_BYTES));
  } catch {
    throw new DecryptError();
  }
  return mix(exported, { transferKey: o.transferKey, sessionId: o.sessionId, enc: o.enc });
}
