/** @module The device credential from enrollment (id + secret), stored 0600 with an atomic write and refused when exposed. */
import { closeSync, fsyncSync, openSync } from "node:fs";
import { mkdir, open, readFile, rename, rm, stat } from "node:fs/promises";
import { dirname } from "node:path";
import { InputError } from "../../cli/command.ts";
import { normalizePin } from "../../crypto/certificate-pin.ts";
import { fromBase64url, randomToken } from "../../crypto/random-token.ts";
import type { NodeTrust } from "../../protocol/node-fetch.ts";

/** Device ids are `dev_` + base64url (the control node's enrollment contract). */
const DEVICE_ID = /^dev_[A-Za-z0-9_-]{8,64}$/;
/** The enrollment secret: 32 CSPRNG bytes. */
export const SECRET_BYTES = 32;
/** Owner read/write only; anything in the group or other bits means the secret may already have leaked. */
const FILE_MODE = 0o600;
const GROUP_OTHER_BITS = 0o077;

/**
 * What enrollment returns. The secret is held in a private field: JSON.stringify and console.log of a
 * credential print it redacted, so it cannot reach a log by accident.
 */
/** The parts of a credential, as enrollment or a credential file gives them. */
export interface DeviceCredentialFields {
  id: string;
  name: string;
  /** base64url of the device's shared secret with the node. */
  secret: string;
  /** The control node's HTTP base URL the device enrolled with. */
  node: string;
  /** The node's UDP keepalive/trigger endpoint ("host:port") when enrollment said. */
  nodeUdp?: string | undefined;
  /** The node certificate's pin (`sha256/BASE64`) when the node is self-signed; absent: system CAs. */
  nodePin?: string | undefined;
}

export class DeviceCredential {
  readonly #secret: string;
  readonly id: string;
  readonly name: string;
  /** The control node's HTTP base URL the device enrolled with. */
  readonly node: string;
  /** The node's UDP keepalive/trigger endpoint ("host:port") when enrollment said. */
  readonly nodeUdp: string | undefined;
  /** The node certificate's pin (`sha256/BASE64`) when the node is self-signed; absent: system CAs. */
  readonly nodePin: string | undefined;

  /** Checks the id, the secret's encoding and length, and the pin's form; refusals are ERR_CREDENTIAL_INVALID. */
  constructor({ id, name, secret, node, nodeUdp, nodePin }: DeviceCredentialFields) {
    this.id = id;
    this.name = name;
    this.node = node;
    this.nodeUdp = nodeUdp;
    if (nodePin !== undefined) {
      try {
        this.nodePin = normalizePin(nodePin);
      } catch (err) {
        throw new InputError(`Cannot use credential: ${(err as Error).message}`, "ERR_CREDENTIAL_INVALID");
      }
    }
    if (!DEVICE_ID.test(id))
      throw new InputError(
        `Cannot use credential: device id '${id.slice(0, 80)}' is not dev_ + base64url`,
        "ERR_CREDENTIAL_INVALID",
      );
    if (name.length === 0)
      throw new InputError("Cannot use credential: empty device name", "ERR_CREDENTIAL_INVALID");
    let bytes: Uint8Array;
    try {
      bytes = fromBase64url(secret);
    } catch {
      throw new InputError("Cannot use credential: secret is not base64url", "ERR_CREDENTIAL_INVALID");
    }
    if (bytes.byteLength !== SECRET_BYTES) {
      throw new InputError(
        `Cannot use credential: secret is ${bytes.byteLength} bytes, not ${SECRET_BYTES}`,
        "ERR_CREDENTIAL_INVALID",
      );
    }
    this.#secret = secret;
  }

  /** How to check the node: its pin, else the system CAs over https, else plain HTTP as the node said at enrollment. */
  get trust(): NodeTrust {
    if (this.nodePin !== undefined) return { kind: "pin", pin: this.nodePin };
    return this.node.startsWith("http://") ? { kind: "insecure-http" } : { kind: "ca" };
  }

  /** The raw secret, for crypto/hmac.ts deriveKey() only. */
  secretBytes(): Uint8Array {
    return fromBase64url(this.#secret);
  }

  toJSON(): object {
    return { id: this.id, name: this.name, secret: "[redacted]", node: this.#nodeJson() };
  }

  #nodeJson(): { http: string; udp?: string; pin?: string } {
    return {
      http: this.node,
      ...(this.nodeUdp === undefined ? {} : { udp: this.nodeUdp }),
      ...(this.nodePin === undefined ? {} : { pin: this.nodePin }),
    };
  }

  [Symbol.for("nodejs.util.inspect.custom")](): string {
    return `DeviceCredential { id: '${this.id}', name: '${this.name}', secret: [redacted], node: '${this.node}' }`;
  }

  /** The only serialisation that includes the secret; used by saveCredential(). */
  serialize(): string {
    return `${JSON.stringify({ id: this.id, name: this.name, secret: this.#secret, node: this.#nodeJson() }, null, 2)}\n`;
  }

  /**
   * Builds a credential from enrollment output: `POST /v1/enroll` gives `{id, name, secret}` (node = the URL
   * used), `pvrlink control enroll` prints `{id, name, secret, node: {http, udp}}`; a plain string node is the
   * HTTP URL.
   */
  static fromEnrollment(body: unknown, node?: string): DeviceCredential {
    const b = body as Record<string, unknown> | null;
    if (!b || typeof b.id !== "string" || typeof b.name !== "string" || typeof b.secret !== "string") {
      throw new InputError(
        "Cannot use enrollment answer: id, name and secret must be strings",
        "ERR_CREDENTIAL_INVALID",
      );
    }
    const n = b.node as { http?: unknown; udp?: unknown; pin?: unknown } | string | undefined;
    const http = typeof n === "string" ? n : typeof n?.http === "string" ? n.http : node;
    const udp = typeof n === "object" && typeof n?.udp === "string" ? n.udp : undefined;
    const pin = typeof n === "object" && typeof n?.pin === "string" ? n.pin : undefined;
    if (http === undefined) {
      throw new InputError("Cannot use enrollment answer: no control node URL", "ERR_CREDENTIAL_INVALID");
    }
    return new DeviceCredential({
      id: b.id,
      name: b.name,
      secret: b.secret,
      node: http,
      nodeUdp: udp,
      nodePin: pin,
    });
  }
}

/**
 * Writes the credential with mode 0600: a temp file created 0600 in the same directory (so no moment exists
 * where the secret sits in a wider-mode file), fsynced, renamed over the target, then the directory fsynced,
 * so a crash leaves either the old or the new credential, never half of one.
 */
export async function saveCredential(path: string, cred: DeviceCredential): Promise<void> {
  const dir = dirname(path);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const tmp = `${path}.tmp-${randomToken(6)}`;
  const fh = await open(tmp, "wx", FILE_MODE);
  try {
    await fh.chmod(FILE_MODE); // the umask may have narrowed it further, never widened; make it exact
    await fh.writeFile(cred.serialize());
    await fh.sync();
  } catch (err) {
    await fh.close();
    await rm(tmp, { force: true });
    throw err;
  }
  await fh.close();
  await rename(tmp, path);
  try {
    const dfd = openSync(dir, "r");
    try {
      fsyncSync(dfd);
    } finally {
      closeSync(dfd);
    }
  } catch {
    // Some filesystems refuse fsync on a directory; the rename is still atomic there.
  }
}

/** Loads the credential; refuses a file group/world can read (ERR_CREDENTIAL_PERMISSIONS) or a malformed one. */
export async function loadCredential(path: string): Promise<DeviceCredential> {
  let mode: number;
  try {
    mode = (await stat(path)).mode;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") {
      throw new InputError(
        `Cannot load credential: ${path} does not exist (enroll this device first)`,
        "ERR_CREDENTIAL_MISSING",
      );
    }
    throw err;
  }
  if ((mode & GROUP_OTHER_BITS) !== 0) {
    const octal = (mode & 0o777).toString(8).padStart(4, "0");
    throw new InputError(
      `Cannot load credential: ${path} has mode ${octal}, readable beyond its owner; run 'chmod 600 ${path}' and consider re-enrolling`,
      "ERR_CREDENTIAL_PERMISSIONS",
    );
  }
  let body: unknown;
  try {
    body = JSON.parse(await readFile(path, "utf8"));
  } catch (err) {
    if (err instanceof SyntaxError) {
      throw new InputError(`Cannot load credential: ${path} is not JSON`, "ERR_CREDENTIAL_INVALID");
    }
    throw err;
  }
  return DeviceCredential.fromEnrollment(body);
}
