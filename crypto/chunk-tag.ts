/** @module AES-GMAC tags for chunks that travel in clear but must not be altered: integrity without confidentiality. */
import { chunkAad, chunkNonce, DecryptError, TAG_BYTES } from "./aead.ts";

// A clear chunk's tag is AES-GCM with an empty plaintext (GMAC, NIST SP 800-38D 3, "GMAC"):
//
//   tag = GCM-Encrypt(key, nonce = chunkNonce(pos), AAD = chunkAad(pos) || bytes, plaintext = "")
//
// It uses the same (stream, index) nonce a sealed chunk at that position would, so a stream may mix sealed and
// clear chunks under one key without ever reusing a nonce, and a clear chunk moved, replayed or spliced into
// another session or stream fails like a sealed one. GHASH's length block (len(AAD), len(C)) keeps a clear
// chunk's tag (len(C) = 0, bytes in the AAD) from ever standing in for a sealed chunk's (bytes in C).

/** The 16-byte GMAC tag binding bytes to their chunk position under key. */
export async function tagChunk(
  key: CryptoKey,
  pos: { context: string; stream: number; index: number | bigint },
  bytes: Uint8Array,
): Promise<Uint8Array> {
  const tag = await crypto.subtle.encrypt(
    { name: "AES-GCM", iv: chunkNonce(pos), additionalData: withAad(pos, bytes), tagLength: TAG_BYTES * 8 },
    key,
    new Uint8Array(0),
  );
  return new Uint8Array(tag);
}

/** Checks a clear chunk's tag; any mismatch (bytes, position, key, tag) is one DecryptError. */
export async function verifyChunkTag(
  key: CryptoKey,
  pos: { context: string; stream: number; index: number | bigint },
  bytes: Uint8Array,
  tag: Uint8Array,
): Promise<void> {
  if (tag.byteLength !== TAG_BYTES) throw new DecryptError();
  try {
    await crypto.subtle.decrypt(
      { name: "AES-GCM", iv: chunkNonce(pos), additionalData: withAad(pos, bytes), tagLength: TAG_BYTES * 8 },
      key,
      tag as Uint8Array<ArrayBuffer>,
    );
  } catch {
    throw new DecryptError();
  }
}

function withAad(pos: { context: string; stream: number; index: number | bigint }, bytes: Uint8Array) {
  const aad = chunkAad(pos);
  const out = new Uint8Array(aad.byteLength + bytes.byteLength);
  out.set(aad, 0);
  out.set(bytes, aad.byteLength);
  return out;
}
