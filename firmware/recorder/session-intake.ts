/** @module The recorder's session grants: kept across restarts, re-armed at start, fetched from the node on demand. */
import { join } from "node:path";
import type { PendingSession } from "../../protocol/api-types.ts";
import type { ControlClient } from "../../protocol/control-client.ts";
import { SessionTicketStore } from "../direct/session-ticket-store.ts";
import type { DaemonLog } from "./daemon-log.ts";
import { SESSION_KEYRING_FILE, SessionKeyring } from "./session-keyring.ts";

export interface SessionIntakeOptions {
  dataDir: string;
  client: ControlClient;
  log: DaemonLog;
}

/**
 * The keyring (grants and their keys, on disk) and the tickets (what the direct listener accepts) kept in step:
 * every live grant, kept or newly fetched, is armed once as a ticket.
 */
export class SessionIntake {
  readonly keyring: SessionKeyring;
  readonly tickets = new SessionTicketStore();
  /** Told of each grant fetched from the node (not of those re-armed from the keyring at start). */
  onFetched: ((grant: PendingSession) => void) | undefined;
  readonly #client: ControlClient;
  readonly #log: DaemonLog;
  #fetching: Promise<void> | undefined;

  /** Loads the keyring (a damaged one is logged and replaced by an empty one) and re-arms its live grants. */
  constructor(o: SessionIntakeOptions) {
    this.#client = o.client;
    this.#log = o.log;
    const keyringPath = join(o.dataDir, SESSION_KEYRING_FILE);
    let keyring: SessionKeyring;
    try {
      keyring = SessionKeyring.load(keyringPath);
    } catch (err) {
      o.log("session-keyring-damaged", { message: (err as Error).message });
      keyring = SessionKeyring.load(`${keyringPath}.missing`);
    }
    this.keyring = keyring;
    for (const p of keyring.all()) this.#arm(p);
  }

  /** Fetches the node's pending grants now; concurrent callers share the one request in flight. */
  fetch(): Promise<void> {
    this.#fetching ??= (async () => {
      try {
        const got = await this.#client.pendingSessions();
        for (const p of got) {
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
