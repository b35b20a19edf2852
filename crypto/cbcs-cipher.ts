/** @module AES-128-CBC for CENC 'cbcs' pattern protection of H.264 slices: chains of 16-byte blocks, each chain from a constant IV. */
import { createDecipheriv, createSecretKey, type KeyObject } from "node:crypto";
import { CbcsChainEncryptor } from "./cbcs-chain-encryptor.ts";
import { deriveKey } from "./hmac.ts";
import { toBase64url } from "./random-token.ts";
import { releaseCipherOutput } from "./release-cipher-output.ts";

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
  const B = CBCS_BLOCK_BYTES;
  const check = (blocks: Uint8Array, restarts: readonly number[]) => {
    if (blocks.byteLength % B !== 0) {
      throw new RangeError(`Cannot run cbcs cipher: ${blocks.byteLength} bytes are not whole blocks`);
    }
    const n = blocks.byteLength / B;
    for (let r = 0; r < restarts.length; r++) {
      const at = restarts[r]!;
      if (!Number.isInteger(at) || at < 0 || at >= n || (r > 0 && at <= restarts[r - 1]!))
        throw new RangeError("Cannot run cbcs cipher: restarts are not ascending block indices");
    }
  };
  if (direction === "encrypt") {
    const encryptor = new CbcsChainEncryptor(key, iv);
    return (blocks, restarts) => {
      check(blocks, restarts);
      encryptor.encrypt(blocks, restarts);
    };
  }
  // Decrypt: CBC decryption of every block is D(Cj) ⊕ Cj−1 whatever the chains, so one OpenSSL context takes a
  // whole call; a chain's first block is then fixed up with ⊕ Cj−1 ⊕ IV (NIST SP 800-38A 6.2; padding off, so
  // update() returns every block). `last` is the ciphertext block the context chains from: the IV, then the
  // last ciphertext block it saw.
  const last = Buffer.from(iv);
  const cipher = createDecipheriv("aes-128-cbc", key, iv).setAutoPadding(false);
  return (blocks: Uint8Array, restarts: readonly number[]) => {
    check(blocks, restarts);
    if (blocks.byteLength === 0) return;
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
    releaseCipherOutput(out);
  };
}
