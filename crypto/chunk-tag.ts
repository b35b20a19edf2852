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

/**
 * Spare bytes a caller may leave in front of a clear chunk, in the same buffer, so that tagging or checking it
 * writes the AAD prefix there instead of copying the chunk behind a fresh one (`room: true` below). The longest
 * prefix is 16 (label) + 79 (a direct channel's context) + 13 bytes.
 */
export const AAD_ROOM_BYTES = 128;

type Position = { context: string; stream: number; index: number | bigint };

/**
 * The 16-byte GMAC tag binding bytes to their chunk position under key. With `room`, the AAD_ROOM_BYTES before
 * `bytes` in its buffer belong to the caller and are overwritten with the AAD prefix (no copy of the bytes).
 */
export async function tagChunk(
  key: CryptoKey,
  pos: Position,
  bytes: Uint8Array,
  o: { room?: boolean } = {},
): Promise<Uint8Array> {
  const tag = await crypto.subtle.encrypt(
    {
      name: "AES-GCM",
      iv: chunkNonce(pos),
      additionalData: aadOf(pos, bytes, o.room),
      tagLength: TAG_BYTES * 8,
    },
    key,
    new Uint8Array(0),
  );
  return new Uint8Array(tag);
}

/** Checks a clear chunk's tag; any mismatch (bytes, position, key, tag) is one DecryptError. `room` as in tagChunk. */
export async function verifyChunkTag(
  key: CryptoKey,
  pos: Position,
  bytes: Uint8Array,
  tag: Uint8Array,
  o: { room?: boolean } = {},
): Promise<void> {
  if (tag.byteLength !== TAG_BYTES) throw new DecryptError();
  try {
    await crypto.subtle.decrypt(
      {
        name: "AES-GCM",
        iv: chunkNonce(pos),
        additionalData: aadOf(pos, bytes, o.room),
        tagLength: TAG_BYTES * 8,
      },
      key,
      tag as Uint8Array<ArrayBuffer>,
    );
  } catch {
    throw new DecryptError();
  }
}

/** chunkAad(pos) || bytes: written into the room before bytes when the caller gave it, else a fresh copy. */
function aadOf(pos: Position, bytes: Uint8Array, room = false): Uint8Array<ArrayBuffer> {
  const aad = chunkAad(pos);
  if (room) {
    if (aad.byteLength > AAD_ROOM_BYTES || bytes.byteOffset < aad.byteLength)
      throw new RangeError("Cannot tag in place: the chunk has no room for its AAD before it");
    const whole = new Uint8Array(
      bytes.buffer as ArrayBuffer,
      bytes.byteOffset - aad.byteLength,
      aad.byteLength + bytes.byteLength,
    );
    whole.set(aad, 0);
    return whole;
  }
  const out = new Uint8Array(aad.byteLength + bytes.byteLength);
  out.set(aad, 0);
  out.set(bytes, aad.byteLength);
  return out;
}
