/** @module Trust on first use of each peer's identity key, by name: pinned at first contact, a changed key refused until the owner re-approves it. */
import { join } from "node:path";
import { InputError } from "../../cli/command.ts";
import { identityFingerprint, parseIdentityPublicKey } from "../../crypto/x25519-identity.ts";
import { readJsonFile, writeJsonAtomic } from "../files/atomic-json-file.ts";

export const PEER_PINS_FILE = "peers.json";

/** Why a peer was refused: its key differs from the pinned one, or the node sent none for a pinned peer. */
export interface PeerRefusal {
  code: "peer_key_changed" | "peer_key_missing" | "peer_key_invalid" | "peer_check_failed";
  message: string;
}

export interface PeerPin {
  name: string;
  publicKey: string;
  fingerprint: string;
  pinnedAt: number;
  /** A different key the node offered since, waiting for `pvrlink peers trust NAME`. */
  offered?: { publicKey: string; fingerprint: string; at: number };
}

function isIdentityKey(text: string): boolean {
  try {
    parseIdentityPublicKey(text);
    return true;
  } catch {
    return false;
  }
}

/** Names compare as the node compares them (case-insensitive), so "Grandma" cannot take over "grandma"'s pin. */
const keyOf = (name: string) => name.toLowerCase();

/**
 * DATA/peers.json (0600). The daemon and `pvrlink send` are separate processes, so every call reads the
 * file afresh and writes it back atomically.
 */
export class PeerPins {
  readonly #path: string;
  readonly #now: () => number;

  constructor(dataDir: string, now: () => number = Date.now) {
    this.#path = join(dataDir, PEER_PINS_FILE);
    this.#now = now;
  }

  /** The pins, or ERR_PEERS_FILE for a damaged file: never silently empty, which would re-pin every peer. */
  #read(): Record<string, PeerPin> {
    let body: unknown;
    try {
      body = readJsonFile(this.#path);
    } catch {
      throw this.#damaged("not JSON");
    }
    if (body === undefined) return {};
    const peers = (body as { peers?: unknown }).peers;
    if (typeof peers !== "object" || peers === null || Array.isArray(peers))
      throw this.#damaged("no peers object");
    for (const p of Object.values(peers) as PeerPin[]) {
      if (typeof p?.name !== "string" || typeof p.publicKey !== "string" || typeof p.fingerprint !== "string")
        throw this.#damaged("an entry lacks name, publicKey or fingerprint");
    }
    return peers as Record<string, PeerPin>;
  }

  #damaged(why: string): InputError {
    return new InputError(
      `Cannot read ${this.#path}: ${why}; restore it or remove it to pin every peer again at next contact`,
      "ERR_PEERS_FILE",
    );
  }

  #write(peers: Record<string, PeerPin>): void {
    writeJsonAtomic(this.#path, { peers }, 0o600);
  }

  list(): PeerPin[] {
    return Object.values(this.#read()).sort((a, b) => a.name.localeCompare(b.name));
  }

  /**
   * Pins `publicKey` for `name` at first contact; afterwards accepts only the same key. A different key is
   * kept as `offered` (so the owner can compare its fingerprint) and refused; so is a pinned peer for which
   * the node sent no key (a node stripping keys must not turn pinning off).
   */
  check(name: string, publicKey: string | undefined): PeerRefusal | undefined {
    const peers = this.#read();
    if (publicKey !== undefined && !isIdentityKey(publicKey))
      return { code: "peer_key_invalid", message: `${name}: the node sent a malformed identity key` };
    const pin = peers[keyOf(name)];
    if (pin === undefined) {
      if (publicKey === undefined) return undefined; // a peer that never published a key: nothing to pin yet
      peers[keyOf(name)] = {
        name,
        publicKey,
        fingerprint: identityFingerprint(publicKey),
        pinnedAt: this.#now(),
      };
      this.#write(peers);
      return undefined;
    }
    if (publicKey === pin.publicKey) return undefined;
    if (publicKey === undefined) {
      return {
        code: "peer_key_missing",
        message: `${name}: the node sent no identity key for a pinned peer`,
      };
    }
    pin.offered = { publicKey, fingerprint: identityFingerprint(publicKey), at: this.#now() };
    this.#write(peers);
    return {
      code: "peer_key_changed",
      message: `${name}: identity key changed (was ${pin.fingerprint}, now ${pin.offered.fingerprint}); compare with ${name}'s owner, then run 'pvrlink peers trust ${name}'`,
    };
  }

  /** check() for a transfer: a check that cannot run (a damaged peers.json) refuses instead of throwing. */
  verdict(name: string, publicKey: string | undefined): PeerRefusal | undefined {
    try {
      return this.check(name, publicKey);
    } catch (err) {
      return { code: "peer_check_failed", message: (err as Error).message };
    }
  }

  /** Re-approves the key last offered for `name`. False when no changed key is waiting. */
  trust(name: string): boolean {
    const peers = this.#read();
    const pin = peers[keyOf(name)];
    if (pin?.offered === undefined) return false;
    peers[keyOf(name)] = {
      name: pin.name,
      publicKey: pin.offered.publicKey,
      fingerprint: pin.offered.fingerprint,
      pinnedAt: this.#now(),
    };
    this.#write(peers);
    return true;
  }
}
