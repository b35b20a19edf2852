/** @module Session grants this recorder fetched from the node, kept 0600 in the data dir until used or expired. */
import type { PendingSession } from "../../protocol/api-types.ts";
import { readJsonFile, writeJsonAtomic } from "../files/atomic-json-file.ts";

export const SESSION_KEYRING_FILE = "sessions.json";
/**
 * A store-mode grant's key is needed until the stored transfer is picked up and acked, which may be long after
 * the session's lease (the node keeps stored data until its TTL); 30 days bounds a forgotten one.
 */
export const STORE_KEY_KEEP_MS = 30 * 24 * 3600 * 1000;

interface Kept {
  session: PendingSession;
  fetchedAt: number;
  /** A caller presented the password: it stays used across a restart, and the password itself is dropped. */
  used?: boolean;
}

function isPending(v: unknown): v is PendingSession {
  const p = v as PendingSession | null;
  return (
    typeof p === "object" &&
    p !== null &&
    typeof p.id === "string" &&
    typeof p.key === "string" &&
    typeof p.password === "string" &&
    typeof p.expiresAt === "number" &&
    (p.mode === "live" || p.mode === "store") &&
    typeof p.caller?.id === "string"
  );
}

/**
 * `GET /v1/sessions/pending` hands each grant out once, so a recorder that restarts between fetching a grant and
 * using it would lose the session (live) or be unable to open the stored data (store). Every change is
 * written through atomically with mode 0600: the file holds session keys and one-time passwords.
 */
export class SessionKeyring {
  readonly #path: string;
  readonly #entries = new Map<string, Kept>();
  readonly #now: () => number;

  private constructor(path: string, now: () => number) {
    this.#path = path;
    this.#now = now;
  }

  /** Loads the file (a damaged one is reported by the caller and replaced: the grants in it are unusable). */
  static load(path: string, now: () => number = Date.now): SessionKeyring {
    const k = new SessionKeyring(path, now);
    const body = readJsonFile(path) as { sessions?: unknown } | undefined;
    if (body !== undefined) {
      if (!Array.isArray(body.sessions)) throw new SyntaxError(`Cannot read ${path}: no sessions array`);
      for (const e of body.sessions as Kept[]) {
        if (isPending(e?.session) && typeof e.fetchedAt === "number")
          k.#entries.set(
            e.session.id,
            e.used === true ? { ...e, used: true } : { session: e.session, fetchedAt: e.fetchedAt },
          );
      }
    }
    k.prune();
    return k;
  }

  add(p: PendingSession): void {
    this.#entries.set(p.id, { session: p, fetchedAt: this.#now() });
    this.#save();
  }

  get(id: string): PendingSession | undefined {
    return this.#entries.get(id)?.session;
  }

  has(id: string): boolean {
    return this.#entries.has(id);
  }

  all(): PendingSession[] {
    return [...this.#entries.values()].map((e) => e.session);
  }

  /**
   * Records, before the REQUEST is answered, that a live grant's one-time password was presented. The grant
   * stays (its key still opens the session's relayed data) but the daemon never re-arms it at a restart, and
   * the password no longer sits in the file.
   */
  markUsed(id: string): void {
    const e = this.#entries.get(id);
    if (!e || e.used) return;
    this.#entries.set(id, { ...e, used: true, session: { ...e.session, password: "" } });
    this.#save();
  }

  isUsed(id: string): boolean {
    return this.#entries.get(id)?.used === true;
  }

  delete(id: string): void {
    if (this.#entries.delete(id)) this.#save();
  }

  /** Drops live grants whose lease is over and store grants older than STORE_KEY_KEEP_MS. */
  prune(): void {
    const now = this.#now();
    let changed = false;
    for (const [id, e] of this.#entries) {
      const until = e.session.mode === "store" ? e.fetchedAt + STORE_KEY_KEEP_MS : e.session.expiresAt;
      if (until <= now) {
        this.#entries.delete(id);
        changed = true;
      }
    }
    if (changed) this.#save();
  }

  get size(): number {
    return this.#entries.size;
  }

  #save(): void {
    writeJsonAtomic(this.#path, { sessions: [...this.#entries.values()] }, 0o600);
  }
}
