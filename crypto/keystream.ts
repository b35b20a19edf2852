/** @module AES-256-CTR keystream for pattern mode: length-preserving, keyed per transfer from the session key. */
import { deriveKey } from "./hmac.ts";
import { toBase64url } from "./random-token.ts";

// Layout:
//
//   key           = HKDF-SHA256(session key, info "pvrlink/pattern/v1/" + base64url(salt))   (hmac.ts deriveKey)
//   counter block = 0x00 × 8 || block index (u64)                 NIST SP 800-38A 6.5, B.2 (standard increment
//                                                                 of the low 64 bits; WebCrypto `length: 64`)
//   keystream byte p = AES(key, counter block floor(p / 16))[p mod 16]
//
// The salt is 16 CSPRNG bytes per transfer, so every transfer has its own key: two recordings sent in one
// session never share keystream. Within a transfer, p is the byte's ordinal among the encrypted bytes
// (codec/pattern/pattern-cipher.ts), unique per byte, so no counter block is ever used twice. 2^64 blocks per
// key is far beyond any recording. There is no tag: the direct channel's AES-GCM frames authenticate the
// bytes in transit and the merge checks the original's SHA-256, so a flipped bit is still caught.

/** Salt length: 128 bits, as the direct channel's per-connection salt. */
export const KEYSTREAM_SALT_BYTES = 16;
/** AES block length (FIPS 197). */
export const AES_BLOCK_BYTES = 16;
/** Bits of the counter block that count (the low 64; the high 64 stay zero). */
const COUNTER_BITS = 64;
/** HKDF info prefix; the base64url salt follows. */
const PURPOSE = "pattern/v1/";

/** keystream(position, data) → data XOR keystream bytes [position, position + data.length), as a new array. */
export type Keystream = (position: number, data: Uint8Array) => Promise<Uint8Array>;

/**
 * Makes the pattern keystream of one transfer from the 32-byte session key and the transfer's salt. The
 * derived key is imported non-extractable and the raw derivation is zeroed.
 */
export async function makePatternKeystream(sessionKey: Uint8Array, salt: Uint8Array): Promise<Keystream> {
  if (salt.byteLength !== KEYSTREAM_SALT_BYTES) {
    throw new RangeError(
      `Cannot make pattern keystream: salt length ${salt.byteLength} is not ${KEYSTREAM_SALT_BYTES}`,
    );
  }
  const raw = deriveKey(sessionKey, PURPOSE + toBase64url(salt));
  const key = await crypto.subtle.importKey(
    "raw",
    raw as Uint8Array<ArrayBuffer>,
    { name: "AES-CTR" },
    false,
    ["encrypt"],
  );
  raw.fill(0);
  return async (position: number, data: Uint8Array): Promise<Uint8Array> => {
    if (!Number.isSafeInteger(position) || position < 0 || position + data.length > Number.MAX_SAFE_INTEGER) {
      throw new RangeError(`Cannot apply keystream: position ${position} is not a size`);
    }
    const skip = position % AES_BLOCK_BYTES;
    const counter = new Uint8Array(AES_BLOCK_BYTES);
    new DataView(counter.buffer).setBigUint64(8, BigInt((position - skip) / AES_BLOCK_BYTES));
    // CTR encryption is data XOR keystream; `skip` leading bytes stand for the block's bytes before position.
    const input = new Uint8Array(skip + data.length);
    input.set(data, skip);
    const out = await crypto.subtle.encrypt({ name: "AES-CTR", counter, length: COUNTER_BITS }, key, input);
    return new Uint8Array(out, skip, data.length);
  };
}
