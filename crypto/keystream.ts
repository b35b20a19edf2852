/** @module AES-256-CTR keystream for pattern mode: length-preserving, keyed per transfer from the session key. */
import { type Cipheriv, createCipheriv, createSecretKey } from "node:crypto";
import { deriveKey } from "./hmac.ts";
import { toBase64url } from "./random-token.ts";

// Layout:
//
//   key           = HKDF-SHA256(session key, info "pvrlink/pattern/v1/" + base64url(salt))   (hmac.ts deriveKey)
//   counter block = 0x00 × 8 || block index (u64)                 NIST SP 800-38A 6.5, B.2
//   keystream byte p = AES(key, counter block floor(p / 16))[p mod 16]
//
// The salt is 16 CSPRNG bytes per transfer, so every transfer has its own key: two recordings sent in one
// session never share keystream. Within a transfer, p is the byte's ordinal among the encrypted bytes
// (codec/pattern/pattern-cipher.ts), unique per byte, so no counter block is ever used twice. Positions stay
// below 2^53, so the block index never leaves the low 64 bits and OpenSSL's 128-bit increment gives exactly
// the blocks above (SP 800-38A's standard increment of the low 64 bits would too). There is no tag: the direct
// channel's AES-GCM frames authenticate the bytes in transit and the merge checks the original's SHA-256, so a
// flipped bit is still caught.
//
// Why node:crypto and not WebCrypto: the pattern cipher asks for a short run of keystream per chunk, thousands
// of times per recording. A synchronous CTR stream that simply continues where the last call stopped costs no
// promise, no counter block and no fresh input buffer per call (docs/security.md, Cost).

/** Salt length: 128 bits, as the direct channel's per-connection salt. */
export const KEYSTREAM_SALT_BYTES = 16;
/** AES block length (FIPS 197). */
export const AES_BLOCK_BYTES = 16;
/** HKDF info prefix; the base64url salt follows. */
const PURPOSE = "pattern/v1/";
/** The zero input the keystream is made from is kept and grown in steps of this, never shrunk. */
const ZEROS_STEP = 64 * 1024;

/**
 * keystream(position, length) → keystream bytes [position, position + length) of one transfer, as a new array.
 * Calls that continue where the previous one ended (the pattern cipher's only pattern) cost one AES-CTR update;
 * any other position restarts the stream at its block.
 */
export type Keystream = (position: number, length: number) => Uint8Array;

/**
 * Makes the pattern keystream of one transfer from the 32-byte session key and the transfer's salt. The
 * derived key lives only in a KeyObject (never exported or logged) and the raw derivation is zeroed.
 */
export async function makePatternKeystream(sessionKey: Uint8Array, salt: Uint8Array): Promise<Keystream> {
  if (salt.byteLength !== KEYSTREAM_SALT_BYTES) {
    throw new RangeError(
      `Cannot make pattern keystream: salt length ${salt.byteLength} is not ${KEYSTREAM_SALT_BYTES}`,
    );
  }
  const raw = deriveKey(sessionKey, PURPOSE + toBase64url(salt));
  const key = createSecretKey(raw);
  raw.fill(0);
  let cipher: Cipheriv | undefined;
  /** Keystream position the open cipher continues from. */
  let at = -1;
  let zeros = Buffer.alloc(ZEROS_STEP);
  return (position: number, length: number): Uint8Array => {
    if (!Number.isSafeInteger(position) || position < 0 || position + length > Number.MAX_SAFE_INTEGER) {
      throw new RangeError(`Cannot make keystream: position ${position} is not a size`);
    }
    if (!Number.isSafeInteger(length) || length < 0) {
      throw new RangeError(`Cannot make keystream: length ${length} is not a size`);
    }
    if (length > zeros.length) zeros = Buffer.alloc(Math.ceil(length / ZEROS_STEP) * ZEROS_STEP);
    if (cipher === undefined || position !== at) {
      const skip = position % AES_BLOCK_BYTES;
      const iv = Buffer.alloc(AES_BLOCK_BYTES);
      iv.writeBigUInt64BE(BigInt((position - skip) / AES_BLOCK_BYTES), 8);
      cipher = createCipheriv("aes-256-ctr", key, iv);
      // The block's bytes before `position` are made and dropped, so the stream stands at `position`.
      if (skip > 0) cipher.update(zeros.subarray(0, skip));
    }
    at = position + length;
    return cipher.update(zeros.subarray(0, length));
  };
}
