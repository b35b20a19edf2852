/** @module The recorder's session grants: kept across restarts, re-armed at start, fetched from the node on demand. */
import { join } from "node:path";
import type { PendingSession } from "../../protocol/api-types.ts";
import type { ControlClient } from "../../protocol/control-client.ts";
import { SessionTicketStore } from "../direct/session-ticket-store.ts";
import type { RecorderIdentity } from "../identity/identity-key-file.ts";
import { transferKeyFor } from "../identity/transfer-key.ts";
import type { PeerPins } from "../peers/peer-pins.ts";
import type { DaemonLog } from "./daemon-log.ts";
import { SESSION_KEYRING_FILE, SessionKeyring } from "./session-keyring.ts";

export interface SessionIntakeOptions {
  dataDir: string;
  client: ControlClient;
  log: DaemonLog;
  /** This recorder's identity key: each grant's key becomes the transfer key both recorders derive. */
  identity: RecorderIdentity;
  /** The callers' pinned keys: a grant from a caller whose key changed is refused, never kept or armed. */
  peers: PeerPins;
}

/**
 * The keyring (grants and their keys, on disk) and the tickets (what the direct listener accepts) kept in step:
 * every live grant, kept or newly fetched, is armed once as a ticket.
 */
export class SessionIntake {
  readonly keyring: SessionKeyring;
  // A consumed one-time password is marked used in the keyring on disk, so a restart cannot re-arm it.
  readonly tickets = new SessionTicketStore({ onConsumed: (id) => this.keyring.markUsed(id) });
  /** Told of each grant fetched from the node (not of those re-armed from the keyring at start). */
  onFetched: ((grant: PendingSession) => void) | undefined;
  readonly #client: ControlClient;
  readonly #log: DaemonLog;
  readonly #identity: RecorderIdentity;
  readonly #peers: PeerPins;
  #fetching: Promise<void> | undefined;
  #refetch: Promise<void> | undefined;

  /** Loads the keyring (a damaged one is logged and replaced by an empty one) and re-arms its live grants. */
  constructor(o: SessionIntakeOptions) {
    this.#client = o.client;
    this.#log = o.log;
    this.#identity = o.identity;
    this.#peers = o.peers;
    const keyringPath = join(o.dataDir, SESSION_KEYRING_FILE);
    let keyring: SessionKeyring;
    try {
      keyring = SessionKeyring.load(keyringPath);
    } catch (err) {
      o.log("session-keyring-damaged", { message: (err as Error).message });
      keyring = SessionKeyring.load(`${keyringPath}.missing`);
    }
    this.keyring = keyring;
    for (const p of keyring.all()) if (!keyring.isUsed(p.id)) this.#arm(p);
  }

  /** Fetches the node's pending grants now; concurrent callers share the one request in flight. */
  fetch(): Promise<void> {
    // A contact that arrives while a fetch is in flight may be for a grant issued after that fetch's GET: one
    // more fetch follows it (shared by every such caller), or the grant would wait for the next contact.
    if (this.#fetching) {
      this.#refetch ??= this.#fetching
        .catch(() => {})
        .then(() => {
          this.#refetch = undefined;
          return this.fetch();
        });
      return this.#refetch;
    }
    this.#fetching = (async () => {
      try {
        const got = await this.#client.pendingSessions();
        for (const p of got) {
          const refusal = this.#peers.verdict(p.caller.name, p.caller.publicKey);
          if (refusal !== undefined) {
            // Not kept, not armed: the caller's REQUEST finds no ticket and its relayed data no key.
            this.#log("session-refused", { session: p.id, caller: p.caller.name, code: refusal.code });
            // Ending it tells the caller at once (its end trigger) instead of leaving it to wait for a receipt.
            void this.#client
              .end(p.id, { reason: refusal.code, bytesDirect: 0, bytesRelay: 0 })
              .catch(() => {});
            continue;
          }
          p.key = await transferKeyFor(this.#identity, p, { publicKey: p.caller.publicKey, role: "caller" });
          this.keyring.add(p);
          this.#arm(p);
          this.#log("session", { session: p.id, mode: p.mode, caller: p.caller.name });
          this.onFetched?.(p);
        }
      } finally {
        this.#fetching = undefined;
      }
    })();
    return this.#fetching;
  }

  #arm(p: PendingSession): void {
    if (p.mode !== "live") return;
    try {
      this.tickets.addPending(p);
    } catch {
      // already known: the node hands each grant out once, a repeat add would re-arm a used password
    }
  }
}
