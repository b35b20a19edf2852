/** @module Sessions of the /status page: the browser's cookie holds a random session token, never the admin token itself. */
import { randomToken } from "../../crypto/random-token.ts";

/** How long a /status login lasts. */
export const STATUS_SESSION_TTL_MS = 12 * 3600 * 1000;
/** Logins held at most; the oldest goes first (each needs the admin token, so this only bounds memory). */
const MAX_SESSIONS = 256;

/**
 * Issue 21 item 12: the cookie used to hold the raw admin token, which then sat in the browser's cookie store and
 * went with every /status request. Now the admin token is shown once (?token=) and exchanged for a 192-bit
 * CSPRNG session token that only opens /status, expires, and dies with the process.
 */
export class StatusSessions {
  readonly #expiry = new Map<string, number>();
  readonly #now: () => number;

  constructor(now: () => number = Date.now) {
    this.#now = now;
  }

  /** A new session token, valid for STATUS_SESSION_TTL_MS. */
  issue(): string {
    const token = randomToken(24);
    if (this.#expiry.size >= MAX_SESSIONS) {
      const oldest = this.#expiry.keys().next().value;
      if (oldest !== undefined) this.#expiry.delete(oldest);
    }
    this.#expiry.set(token, this.#now() + STATUS_SESSION_TTL_MS);
    return token;
  }

  /** True for a live session token; an expired one is forgotten. */
  valid(token: string | undefined): boolean {
    if (token === undefined) return false;
    const expires = this.#expiry.get(token);
    if (expires === undefined) return false;
    if (expires <= this.#now()) {
      this.#expiry.delete(token);
      return false;
    }
    return true;
  }
}
