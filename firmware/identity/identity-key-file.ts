/** @module This recorder's X25519 identity: made once, its private key kept in a 0600 file and refused when others can read it. */
import { existsSync, mkdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { InputError } from "../../cli/command.ts";
import {
  generateIdentity,
  identityFingerprint,
  loadIdentityPrivateKey,
  parseIdentityPublicKey,
} from "../../crypto/x25519-identity.ts";
import { readJsonFile, writeJsonAtomic } from "../files/atomic-json-file.ts";

export const IDENTITY_KEY_FILE = "identity-key.json";
const FILE_VERSION = 1;
const GROUP_OTHER_BITS = 0o077;

export interface RecorderIdentity {
  /** Raw public key, base64url. */
  publicKey: string;
  fingerprint: string;
  /** Non-extractable; for key agreement only. */
  privateKey: CryptoKey;
}

function refuseExposed(path: string): void {
  const mode = statSync(path).mode;
  if ((mode & GROUP_OTHER_BITS) !== 0) {
    throw new InputError(
      `Cannot load identity key: ${path} has mode ${(mode & 0o777).toString(8).padStart(4, "0")}, readable beyond its owner; run 'chmod 600 ${path}'`,
      "ERR_IDENTITY_KEY_PERMISSIONS",
    );
  }
}

/** Reads DATA/identity-key.json, or makes and writes it (0600, atomic) when there is none. */
export async function loadOrCreateIdentity(dataDir: string): Promise<RecorderIdentity> {
  const path = join(dataDir, IDENTITY_KEY_FILE);
  if (existsSync(path)) refuseExposed(path);
  let body: { version?: unknown; publicKey?: unknown; privateKey?: unknown } | undefined;
  try {
    body = readJsonFile(path) as typeof body;
  } catch {
    throw new InputError(`Cannot load identity key: ${path} is not JSON`, "ERR_IDENTITY_KEY_INVALID");
  }
  if (body === undefined) {
    const made = await generateIdentity();
    body = { version: FILE_VERSION, publicKey: made.publicKey, privateKey: made.privatePkcs8 };
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    writeJsonAtomic(path, body, 0o600);
  }
  if (
    body.version !== FILE_VERSION ||
    typeof body.publicKey !== "string" ||
    typeof body.privateKey !== "string"
  )
    throw new InputError(
      `Cannot load identity key: ${path} is not a version ${FILE_VERSION} key file`,
      "ERR_IDENTITY_KEY_INVALID",
    );
  try {
    parseIdentityPublicKey(body.publicKey);
    return {
      publicKey: body.publicKey,
      fingerprint: identityFingerprint(body.publicKey),
      privateKey: await loadIdentityPrivateKey(body.privateKey),
    };
  } catch {
    throw new InputError(`Cannot load identity key: ${path} holds a damaged key`, "ERR_IDENTITY_KEY_INVALID");
  }
}
