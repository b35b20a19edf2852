/** @module AES-128-CBC for CENC 'cbcs' pattern protection of H.264 slices: chains of 16-byte blocks, each chain from a constant IV. */
import { createCipheriv, createDecipheriv, createSecretKey, type KeyObject } from "node:crypto";
import { deriveKey } from "./hmac.ts";
import { toBase64url } from "./random-token.ts";

// ISO/IEC 23001-7:2016 (CENC) 10.4 'cbcs': the protected blocks of a subsample are encrypted with AES-128 in CBC
// mode from the sample's constant IV, which is applied again at the first encrypted block of each subsample (the
// chain is reset per subsample; a partial block at a subsample's end stays clear), chaining from one
// encrypted block to the next encrypted block of the same subsample: the clear (skipped) blocks between them
// are not part of the chain. So a chain is simply the subsample's encrypted blocks, gathered back to back,
// CBC-encrypted from the constant IV.
//
// Keying for a transfer (pvrlink's own use, the direct part of a pattern-mode split):
//
//   key ‖ constant IV = HKDF-SHA256(session key, info "pvrlink/pattern/cbcs/v1/" + base64url(salt), 32 bytes)
//
// The salt is 16 CSPRNG bytes per transfer (the pattern header carries it), so no two transfers share a key.
// A constant IV under CBC leaks only whether two chains begin with the same first block (CENC accepts this for
// cbcs); the key is fresh per transfer. No tag: the direct channel authenticates every frame and the merge
// checks the original's SHA-256.

/** AES-128 key and CBC IV length (FIPS 197, NIST SP 800-38A 6.2). */
export const CBCS_KEY_BYTES = 16;
export const CBCS_IV_BYTES = 16;
export const CBCS_BLOCK_BYTES = 16;
/** Salt length: as the pattern keystream's (crypto/keystream.ts). */
export const CBCS_SALT_BYTES = 16;
/** HKDF info prefix; the base64url salt follows. */
const PURPOSE = "pattern/cbcs/v1/";

/**
 * Transforms `blocks` (whole 16-byte blocks, the encrypted blocks of one or more chains back to back) in place.
 * `restarts` lists, ascending, the indices of the blocks that begin a chain (CBC from the constant IV); every
 * other block continues the chain of the block before it, the first one continuing the last call's last
 * block. The same type as codec/pattern's CbcsBlockCipher, which the codec calls without seeing a key.
 */
export type CbcsTransform = (blocks: Uint8Array, restarts: readonly number[]) => void;

/** The cipher of one transfer: the derived key and constant IV never leave it (not returned, not logged). */
export async function makeCbcsTransform(
  sessionKey: Uint8Array,
  salt: Uint8Array,
  direction: "encrypt" | "decrypt",
): Promise<CbcsTransform> {
  if (salt.byteLength !== CBCS_SALT_BYTES) {
    throw new RangeError(`Cannot make cbcs cipher: salt length ${salt.byteLength} is not ${CBCS_SALT_BYTES}`);
  }
  const raw = deriveKey(sessionKey, PURPOSE + toBase64url(salt), CBCS_KEY_BYTES + CBCS_IV_BYTES);
  const key = createSecretKey(Buffer.from(raw.subarray(0, CBCS_KEY_BYTES)));
  const iv = Buffer.from(raw.subarray(CBCS_KEY_BYTES));
  raw.fill(0);
  return cbcsTransform(key, iv, direction);
}

/**
 * The cipher under a given AES-128 key and constant IV: for a standard 'cbcs' file, whose key the caller holds
 * and whose constant IV the file's `tenc` box states (ISO/IEC 23001-7 8.2).
 */
export function cbcsTransform(
  key: KeyObject,
  constantIv: Uint8Array,
  direction: "encrypt" | "decrypt",
): CbcsTransform {
  if (key.symmetricKeySize !== CBCS_KEY_BYTES)
    throw new RangeError(`Cannot make cbcs cipher: the key is not ${CBCS_KEY_BYTES} bytes`);
  if (constantIv.byteLength !== CBCS_IV_BYTES)
    throw new RangeError(`Cannot make cbcs cipher: the IV is not ${CBCS_IV_BYTES} bytes`);
  const iv = Buffer.from(constantIv);
  // One OpenSSL context for the whole transfer, not one per chain: making a context (key schedule included)
  // cost more than the AES of a slice's blocks (3000 chains: 14-57 ms against 5-18 ms, 60 MiB H.264 TS). A CBC
  // context simply continues from its last ciphertext block C, so a chain restarts from the constant IV by
  // input and output fix-ups instead:
  // - encrypt: the first block P of a chain goes in as P ⊕ IV ⊕ C, and the context computes AES(P ⊕ IV);
  // - decrypt: every block decrypts at once as D(Cj) ⊕ Cj−1; a chain's first block is then ⊕ Cj−1 ⊕ IV.
  // (NIST SP 800-38A 6.2: CBC is exactly this chaining; padding is off, so update() returns every block.)
  /** Decrypt: the ciphertext block the context chains from, the IV and then the last ciphertext block it saw. */
  const last = Buffer.from(iv);
  const cipher =
    direction === "encrypt"
      ? createCipheriv("aes-128-cbc", key, iv).setAutoPadding(false)
      : createDecipheriv("aes-128-cbc", key, iv).setAutoPadding(false);
  const B = CBCS_BLOCK_BYTES;
  // One-block chains, encrypted together: AES-ECB of P ⊕ IV is exactly CBC's first block (SP 800-38A 6.2).
  const ecb =
    direction === "encrypt" ? createCipheriv("aes-128-ecb", key, null).setAutoPadding(false) : undefined;
  let single = Buffer.allocUnsafe(64 * B);
  let singleWords = new DataView(single.buffer, single.byteOffset, single.byteLength);
  /** Byte offset in `blocks` of each one-block chain gathered into `single`. */
  let singleAt = new Int32Array(64);
  // Encrypt: the IV and the last ciphertext block (`last` of the decrypt) as four 32-bit words each (byte order
  // is irrelevant: read and written the same way). The fix-ups and the one-block chains were byte loops, and the
  // last block a subarray() per chain: 7.3 -> 5.3 ms of the 60 MiB H.264 TS's 263 cipher calls, AES included.
  const ivWords = new DataView(iv.buffer, iv.byteOffset, B);
  const iv0 = ivWords.getInt32(0, true);
  const iv1 = ivWords.getInt32(4, true);
  const iv2 = ivWords.getInt32(8, true);
  const iv3 = ivWords.getInt32(12, true);
  let l0 = iv0;
  let l1 = iv1;
  let l2 = iv2;
  let l3 = iv3;
  return (blocks: Uint8Array, restarts: readonly number[]) => {
    if (blocks.byteLength % B !== 0) {
      throw new RangeError(`Cannot run cbcs cipher: ${blocks.byteLength} bytes are not whole blocks`);
    }
    const n = blocks.byteLength / B;
    for (let r = 0; r < restarts.length; r++) {
      const at = restarts[r]!;
      if (!Number.isInteger(at) || at < 0 || at >= n || (r > 0 && at <= restarts[r - 1]!))
        throw new RangeError("Cannot run cbcs cipher: restarts are not ascending block indices");
    }
    if (n === 0) return;
    if (direction === "encrypt") {
      const words = new DataView(blocks.buffer, blocks.byteOffset, blocks.byteLength);
      let singles = 0;
      for (let r = -1; r < restarts.length; r++) {
        const start = r < 0 ? 0 : restarts[r]!;
        const to = r + 1 < restarts.length ? restarts[r + 1]! : n;
        if (r < 0 && restarts.length > 0 && restarts[0] === 0) continue;
        const first = start * B;
        if (r >= 0 && to - start === 1 && to < n) {
          if (single.length < (singles + 1) * B) {
            const grown = Buffer.allocUnsafe(2 * (singles + 1) * B);
            grown.set(single.subarray(0, singles * B));
            single = grown;
            singleWords = new DataView(single.buffer, single.byteOffset, single.byteLength);
            const at = new Int32Array(2 * (singles + 1));
            at.set(singleAt.subarray(0, singles));
            singleAt = at;
          }
          const into = singles * B;
          singleWords.setInt32(into, words.getInt32(first, true) ^ iv0, true);
          singleWords.setInt32(into + 4, words.getInt32(first + 4, true) ^ iv1, true);
          singleWords.setInt32(into + 8, words.getInt32(first + 8, true) ^ iv2, true);
          singleWords.setInt32(into + 12, words.getInt32(first + 12, true) ^ iv3, true);
          singleAt[singles++] = first;
          continue;
        }
        if (r >= 0) {
          // The chain starting at block `start` restarts from the IV.
          words.setInt32(first, words.getInt32(first, true) ^ iv0 ^ l0, true);
          words.setInt32(first + 4, words.getInt32(first + 4, true) ^ iv1 ^ l1, true);
          words.setInt32(first + 8, words.getInt32(first + 8, true) ^ iv2 ^ l2, true);
          words.setInt32(first + 12, words.getInt32(first + 12, true) ^ iv3 ^ l3, true);
        }
        const out = cipher.update(blocks.subarray(first, to * B));
        blocks.set(out, first);
        releaseOutput(out);
        // The chain's last ciphertext block, as the context now holds it.
        const end = to * B - B;
        l0 = words.getInt32(end, true);
        l1 = words.getInt32(end + 4, true);
        l2 = words.getInt32(end + 8, true);
        l3 = words.getInt32(end + 12, true);
      }
      if (singles > 0) {
        const out = ecb!.update(single.subarray(0, singles * B));
        const o = new DataView(out.buffer, out.byteOffset, out.byteLength);
        for (let j = 0; j < singles; j++) {
          const at = singleAt[j]!;
          const from = j * B;
          words.setInt32(at, o.getInt32(from, true), true);
          words.setInt32(at + 4, o.getInt32(from + 4, true), true);
          words.setInt32(at + 8, o.getInt32(from + 8, true), true);
          words.setInt32(at + 12, o.getInt32(from + 12, true), true);
        }
        releaseOutput(out);
      }
      return;
    }
    const out = cipher.update(blocks);
    for (const at of restarts) {
      const first = at * B;
      for (let k = 0; k < B; k++) {
        const before = at === 0 ? last[k]! : blocks[first - B + k]!;
        out[first + k]! ^= before ^ iv[k]!;
      }
    }
    last.set(blocks.subarray(blocks.length - B));
    blocks.set(out);
    releaseOutput(out);
  };
}

/**
 * Frees an update()'s output now that its bytes are copied back. node:crypto returns each output in an
 * ArrayBuffer of its own (16 bytes of room for padding beyond it), which JavaScriptCore frees only when it next
 * collects: until then every output lands on fresh pages, and their first writes cost more than the AES (the
 * 60 MiB H.264 TS: ~1,500 page faults per send's cipher, as crypto/keystream.ts found for the keystream).
 * Only a buffer the output alone owns is detached.
 */
function releaseOutput(out: Uint8Array): void {
  const buffer = out.buffer;
  if (
    buffer instanceof ArrayBuffer &&
    !buffer.detached &&
    out.byteOffset === 0 &&
    buffer.byteLength - out.byteLength <= CBCS_BLOCK_BYTES
  )
    buffer.transfer(0);
}
