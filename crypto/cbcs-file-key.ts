/** @module A fresh key for a standard 'cbcs' protected file kept at rest: key, key ID and constant IV from the CSPRNG, and its cipher. */
import { createSecretKey } from "node:crypto";
import { CBCS_IV_BYTES, CBCS_KEY_BYTES, type CbcsTransform, cbcsTransform } from "./cbcs-cipher.ts";
import { randomBytes } from "./random-token.ts";

/** default_KID length, ISO/IEC 23001-7:2016 8.2.2. */
export const CBCS_KEY_ID_BYTES = 16;

/**
 * A file key: a fresh CSPRNG AES-128 key per file, never derived from a transfer's session key (the control
 * node issued that one, and a kept file must not be readable by it). `key` is handed out because its owner must
 * keep it (a key file, mode 0600); the key ID and constant IV are public, the file's tenc box states them.
 */
export interface CbcsFileKey {
  key: Uint8Array;
  keyId: Uint8Array;
  constantIv: Uint8Array;
  /** The encrypting cipher under `key` and `constantIv`. */
  encrypt: CbcsTransform;
}

export function newCbcsFileKey(): CbcsFileKey {
  const key = randomBytes(CBCS_KEY_BYTES);
  const constantIv = randomBytes(CBCS_IV_BYTES);
  return {
    key,
    keyId: randomBytes(CBCS_KEY_ID_BYTES),
    constantIv,
    encrypt: cbcsTransform(createSecretKey(Buffer.from(key)), constantIv, "encrypt"),
  };
}
