/** @module AES-256-GCM sealing of chunks under a session key, with the nonce and AAD layout that binds each chunk to its session, stream and position. */

// Sealed chunk layout (all big-endian):
//
//   +----------------------+---------------------+
//   | ciphertext (n bytes) | GCM tag (16 bytes)   |
//   +----------------------+---------------------+
//
// The nonce is never sent: both ends derive it from (stream id, chunk index), which they already agree on,
// so a reordered, replayed or cross-stream chunk fails authentication instead of decrypting.
//
//   nonce (12 bytes) = stream id (u32) || chunk index (u64)          NIST SP 800-38D 8.2.1 (deterministic)
//   AAD              = AAD_LABEL || context (UTF-8) || 0x00 || stream id (u32) || chunk index (u64)

/** AES key length: 256 bits, the session key the control node issues. */
export const KEY_BYTES = 32;
/** GCM nonce length (NIST SP 800-38D 5.2.1.1: 96-bit IVs are the efficient, recommended case). */
export const NONCE_BYTES = 12;
/** GCM authentication tag length (NIST SP 800-38D 5.2.1.2: full 128-bit tag). */
export const TAG_BYTES = 16;
/** Largest plaintext one chunk may carry; GCM allows 2^39-256 bits, we keep chunks small enough to stream. */
export const MAX_CHUNK_BYTES = 16 * 1024 * 1024;
/** Prefix of every AAD, so a pvrlink ciphertext can never be confused with another protocol's. */
const AAD_LABEL = new TextEncoder().encode("pvrlink/aead/v1\0");
const MAX_CHUNK_INDEX = 2n ** 64n - 1n;

/**
 * A failed decrypt: bytes that are not a chunk sealed under this key at this position, so a SyntaxError (as a
 * digest or MAC mismatch is everywhere else) with the stable code ERR_DECRYPT. Carries no detail on purpose:
 * which check failed is an oracle for an attacker.
 */
export class DecryptError extends SyntaxError {
  readonly code = "ERR_DECRYPT";
  constructor() {
    super("Cannot open sealed chunk: authentication failed");
    this.name = "DecryptError";
  }
}

/** Where a chunk sits: which session (context), which one-way stream in it, and its position in that stream. */
export interface ChunkPosition {
  /** Binds the chunk to one session, e.g. the session ID. */
  readonly context: string;
  /** One id per direction or channel, so two streams under one key never share a nonce. */
  readonly stream: number;
  /** 0, 1, 2, ... within the stream; never reused under one key. */
  readonly index: number | bigint;
}

/** Imports a raw 256-bit session key as a non-extractable AES-GCM key. */
export async function importSessionKey(raw: Uint8Array): Promise<CryptoKey> {
  if (raw.byteLength !== KEY_BYTES) {
    throw new RangeError(`Cannot import session key: length ${raw.byteLength} is not ${KEY_BYTES}`);
  }
  return crypto.subtle.importKey("raw", raw as Uint8Array<ArrayBuffer>, { name: "AES-GCM" }, false, [
    "encrypt",
    "decrypt",
  ]);
}

/** Makes a fresh 256-bit session key from the CSPRNG. */
export function generateSessionKeyBytes(): Uint8Array {
  return crypto.getRandomValues(new Uint8Array(KEY_BYTES));
}

function checkPosition(pos: ChunkPosition): bigint {
  if (!Number.isInteger(pos.stream) || pos.stream < 0 || pos.stream > 0xffffffff) {
    throw new RangeError(`Cannot seal chunk: stream id ${pos.stream} is not a u32`);
  }
  const index = BigInt(pos.index);
  if (index < 0n || index > MAX_CHUNK_INDEX) {
    throw new RangeError(`Cannot seal chunk: chunk index ${pos.index} is not a u64`);
  }
  return index;
}

/** The 12-byte nonce for a chunk position: stream id (u32) || chunk index (u64). */
export function chunkNonce(pos: ChunkPosition): Uint8Array<ArrayBuffer> {
  const index = checkPosition(pos);
  const nonce = new Uint8Array(NONCE_BYTES);
  const view = new DataView(nonce.buffer);
  view.setUint32(0, pos.stream);
  view.setBigUint64(4, index);
  return nonce;
}

/** The AAD for a chunk position: label || context || 0x00 || stream id || chunk index. */
export function chunkAad(pos: ChunkPosition): Uint8Array<ArrayBuffer> {
  const index = checkPosition(pos);
  const ctx = new TextEncoder().encode(pos.context);
  const aad = new Uint8Array(AAD_LABEL.length + ctx.length + 1 + 12);
  aad.set(AAD_LABEL, 0);
  aad.set(ctx, AAD_LABEL.length);
  const view = new DataView(aad.buffer, AAD_LABEL.length + ctx.length + 1);
  view.setUint32(0, pos.stream);
  view.setBigUint64(4, index);
  return aad;
}

/** Seals one chunk: returns ciphertext || tag (plaintext length + 16 bytes). */
export async function sealChunk(
  key: CryptoKey,
  pos: ChunkPosition,
  plaintext: Uint8Array,
): Promise<Uint8Array> {
  if (plaintext.byteLength > MAX_CHUNK_BYTES) {
    throw new RangeError(`Cannot seal chunk: length ${plaintext.byteLength} exceeds ${MAX_CHUNK_BYTES}`);
  }
  const sealed = await crypto.subtle.encrypt(
    { name: "AES-GCM", iv: chunkNonce(pos), additionalData: chunkAad(pos), tagLength: TAG_BYTES * 8 },
    key,
    plaintext as Uint8Array<ArrayBuffer>,
  );
  return new Uint8Array(sealed);
}

/** Opens one sealed chunk; any failure (wrong key, position, tampering, truncation) is one DecryptError. */
export async function openChunk(key: CryptoKey, pos: ChunkPosition, sealed: Uint8Array): Promise<Uint8Array> {
  if (sealed.byteLength < TAG_BYTES || sealed.byteLength > MAX_CHUNK_BYTES + TAG_BYTES)
    throw new DecryptError();
  try {
    const plain = await crypto.subtle.decrypt(
      { name: "AES-GCM", iv: chunkNonce(pos), additionalData: chunkAad(pos), tagLength: TAG_BYTES * 8 },
      key,
      sealed as Uint8Array<ArrayBuffer>,
    );
    return new Uint8Array(plain);
  } catch {
    throw new DecryptError();
  }
}
