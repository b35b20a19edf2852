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
/** Runs at least this long are freed at the next call (shorter ones cost few page faults, and may share memory). */
const RELEASE_MIN_BYTES = 16 * 1024;

/**
 * keystream(position, length) → keystream bytes [position, position + length) of one transfer, as a new array
 * that stays valid until the next call: the next call frees it (below). Calls that continue where the previous
 * one ended (the pattern cipher's only pattern) cost one AES-CTR update; any other position restarts the stream
 * at its block.
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
  /** The run handed out last, freed when the next is made. */
  let last: Uint8Array | undefined;
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
    if (last !== undefined) release(last);
    last = cipher.update(zeros.subarray(0, length));
    return last;
  };
}

/**
 * Frees a run's memory now, so the next run node:crypto makes reuses it. Each update() returns new memory, and
 * JavaScriptCore frees a dropped run only when it next collects: until then every run lands on fresh pages, and
 * the page faults cost far more than the AES (25 MiB of keystream, a 279 MiB TS's worth at slice-block 1:9,
 * took 80-95 ms of CPU here against 4-5 ms when each run is freed at the next call; docs/security.md, Cost).
 * `transfer(0)` detaches the buffer and releases its store at once. Only a run alone in its memory is freed, never
 * one that might share it with other bytes (a pooled allocation).
 */
function release(run: Uint8Array): void {
  const buffer = run.buffer;
  if (
    buffer instanceof ArrayBuffer &&
    !buffer.detached &&
    run.byteLength >= RELEASE_MIN_BYTES &&
    run.byteOffset === 0 &&
    buffer.byteLength - run.byteLength < AES_BLOCK_BYTES
  )
    buffer.transfer(0);
}
