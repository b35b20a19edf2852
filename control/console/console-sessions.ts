/** @module The console's login sessions: a random session token in an HttpOnly cookie, never the admin token; held in memory with an idle expiry. */
import { createHash } from "node:crypto";
import { randomToken } from "../../crypto/random-token.ts";

export const CONSOLE_COOKIE = "pvrlink_console";
/** An idle console session ends after this long; a restart ends them all (they live in memory only). */
export const CONSOLE_IDLE_MS = 8 * 3600 * 1000;
/** Oldest sessions are dropped past this many, so logins cannot grow memory without bound. */
export const MAX_CONSOLE_SESSIONS = 256;

/** Sessions are keyed by the token's hash, so a heap dump does not hold usable cookies. */
const keyOf = (token: string) => createHash("sha256").update(token).digest("hex");

export class ConsoleSessions {
  readonly #lastUse = new Map<string, number>();
  readonly #now: () => number;

  constructor(now: () => number = Date.now) {
    this.#now = now;
  }

  /** A new session token (32 CSPRNG bytes) for the cookie. */
  create(): string {
    this.prune();
    while (this.#lastUse.size >= MAX_CONSOLE_SESSIONS) {
      const oldest = this.#lastUse.keys().next().value as string;
      this.#lastUse.delete(oldest);
    }
    const token = `cs_${randomToken(32)}`;
    this.#lastUse.set(keyOf(token), this.#now());
    return token;
  }

  /** True for a live session, whose idle clock restarts; false for anything else. */
  touch(token: string | undefined): boolean {
    if (!token) return false;
    const k = keyOf(token);
    const at = this.#lastUse.get(k);
    if (at === undefined) return false;
    if (this.#now() - at > CONSOLE_IDLE_MS) {
      this.#lastUse.delete(k);
      return false;
    }
    // Re-insert so the Map's order stays least-recently-used first.
    this.#lastUse.delete(k);
    this.#lastUse.set(k, this.#now());
    return true;
  }

  end(token: string | undefined): void {
    if (token) this.#lastUse.delete(keyOf(token));
  }

  prune(): void {
    const now = this.#now();
    for (const [k, at] of this.#lastUse) if (now - at > CONSOLE_IDLE_MS) this.#lastUse.delete(k);
  }

  get size(): number {
    return this.#lastUse.size;
  }
}
