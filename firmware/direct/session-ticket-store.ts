/** @module What the control node told this callee about expected callers: one-time passwords, keys, leases. */
import { tagsEqual } from "../../crypto/hmac.ts";
import { fromBase64url } from "../../crypto/random-token.ts";
import type { PendingSession } from "../../protocol/api-types.ts";

/** A session the node issued for a caller to connect to us (from GET /v1/sessions/pending). */
export interface SessionTicket {
  sessionId: string;
  callerId: string;
  callerName?: string | undefined;
  password: string;
  /** Raw 32-byte session key. */
  key: Uint8Array;
  /** Session end (unix ms): the channel closes then unless extended. */
  expiresAt: number;
  /** Last moment (unix ms) a REQUEST is accepted: the password's connect window. */
  connectBy: number;
  /** This callee's own one-time password, proved to the caller in ACCEPTED (seed A variation 9). */
  calleePassword?: string | undefined;
}

/** Why a REQUEST was denied; sent to the caller inside the sealed DENIED. */
export type DenyReason =
  | "password_used"
  | "wrong_password"
  | "wrong_caller"
  | "connect_window_closed"
  | "session_expired"
  // The callee no longer permits the caller (its device-held list changed since the grant; issue 21 item 3).
  | "revoked";

/** The pending-session shape the node hands out; key is base64url, times are unix ms or ISO strings. */
export interface TicketInput {
  sessionId: string;
  callerId: string;
  callerName?: string | undefined;
  password: string;
  key: Uint8Array | string;
  expiresAt: number | string;
  connectBy?: number | string | undefined;
  calleePassword?: string | undefined;
}

interface Entry {
  ticket: SessionTicket;
  used: boolean;
}

function toMs(v: number | string, what: string): number {
  const ms = typeof v === "number" ? v : Date.parse(v);
  if (!Number.isFinite(ms)) throw new RangeError(`Cannot add session ticket: ${what} '${v}' is not a time`);
  return ms;
}

/**
 * Holds tickets until their session ends. A password is single-use: the first REQUEST that opens under the
 * session key consumes the ticket whether or not its id and password match, so a key holder gets exactly one
 * try. A frame that does not open (no key) consumes nothing, so a stranger who sees the session id in the
 * clear preamble cannot burn the caller's password.
 */
export class SessionTicketStore {
  readonly #entries = new Map<string, Entry>();
  readonly #watchers = new Map<string, Set<(expiresAt: number | undefined) => void>>();
  readonly #now: () => number;
  readonly #connectWindowMs: number;
  readonly #onConsumed: (sessionId: string) => void;

  /**
   * connectWindowMs bounds connectBy when the node sends none: the caller must connect this soon after add().
   * onConsumed runs synchronously the first time a ticket is consumed, before the verdict: the daemon persists
   * the used mark there, so a restart within the connect window cannot re-arm the password.
   */
  constructor(
    opts: { now?: () => number; connectWindowMs?: number; onConsumed?: (sessionId: string) => void } = {},
  ) {
    this.#now = opts.now ?? Date.now;
    this.#connectWindowMs = opts.connectWindowMs ?? 120_000;
    this.#onConsumed = opts.onConsumed ?? (() => {});
  }

  add(input: TicketInput): SessionTicket {
    const key = typeof input.key === "string" ? fromBase64url(input.key) : input.key;
    if (key.byteLength !== 32)
      throw new RangeError(`Cannot add session ticket: key is ${key.byteLength} bytes, not 32`);
    const expiresAt = toMs(input.expiresAt, "expiresAt");
    const connectBy = Math.min(
      expiresAt,
      input.connectBy !== undefined
        ? toMs(input.connectBy, "connectBy")
        : this.#now() + this.#connectWindowMs,
    );
    const ticket: SessionTicket = {
      sessionId: input.sessionId,
      callerId: input.callerId,
      callerName: input.callerName,
      password: input.password,
      key,
      expiresAt,
      connectBy,
      calleePassword: input.calleePassword,
    };
    this.#prune();
    // The node hands each pending session out once; a second add for the same id would re-arm a used password.
    if (this.#entries.has(ticket.sessionId))
      throw new RangeError("Cannot add session ticket: session id already known");
    this.#entries.set(ticket.sessionId, { ticket, used: false });
    return ticket;
  }

  /** Adds a session from `GET /v1/sessions/pending` (protocol/api-types.ts PendingSession). */
  addPending(p: PendingSession): SessionTicket {
    return this.add({
      sessionId: p.id,
      callerId: p.caller.id,
      callerName: p.caller.name,
      password: p.password,
      key: p.key,
      expiresAt: p.expiresAt,
      connectBy: p.connectBy,
      calleePassword: p.calleePassword,
    });
  }

  /** The key for a session id from a preamble, if the session is known and not over; consumes nothing. */
  keyFor(sessionId: string): Uint8Array | undefined {
    const e = this.#entries.get(sessionId);
    if (!e || e.ticket.expiresAt <= this.#now()) return undefined;
    return e.ticket.key;
  }

  /** Checks a REQUEST that opened under the session key; marks the ticket used on every call. */
  consume(
    sessionId: string,
    callerId: string,
    password: string,
  ): { ticket: SessionTicket } | { reason: DenyReason } {
    const e = this.#entries.get(sessionId);
    if (!e) return { reason: "session_expired" };
    const wasUsed = e.used;
    e.used = true;
    if (!wasUsed) this.#onConsumed(sessionId);
    const t = this.#now();
    if (wasUsed) return { reason: "password_used" };
    if (t >= e.ticket.expiresAt) return { reason: "session_expired" };
    if (t > e.ticket.connectBy) return { reason: "connect_window_closed" };
    const enc = new TextEncoder();
    if (!tagsEqual(enc.encode(password), enc.encode(e.ticket.password))) return { reason: "wrong_password" };
    if (callerId !== e.ticket.callerId) return { reason: "wrong_caller" };
    return { ticket: e.ticket };
  }

  /** Moves a session's end (after POST /v1/sessions/:id/extend); open channels follow. False if unknown. */
  extend(sessionId: string, newExpiresAt: number | string): boolean {
    const e = this.#entries.get(sessionId);
    if (!e) return false;
    e.ticket.expiresAt = toMs(newExpiresAt, "expiresAt");
    for (const w of this.#watchers.get(sessionId) ?? []) w(e.ticket.expiresAt);
    return true;
  }

  /** Forgets a session (an `end` trigger); open channels are told with undefined and close. */
  end(sessionId: string): void {
    this.#entries.delete(sessionId);
    for (const w of this.#watchers.get(sessionId) ?? []) w(undefined);
    this.#watchers.delete(sessionId);
  }

  /** Calls fn with each new expiresAt of the session (undefined: ended); returns an unsubscribe function. */
  watch(sessionId: string, fn: (expiresAt: number | undefined) => void): () => void {
    let set = this.#watchers.get(sessionId);
    if (!set) {
      set = new Set();
      this.#watchers.set(sessionId, set);
    }
    set.add(fn);
    return () => {
      set.delete(fn);
      if (set.size === 0 && this.#watchers.get(sessionId) === set) this.#watchers.delete(sessionId);
    };
  }

  get size(): number {
    this.#prune();
    return this.#entries.size;
  }

  #prune(): void {
    const t = this.#now();
    for (const [id, e] of this.#entries) if (e.ticket.expiresAt <= t) this.#entries.delete(id);
  }
}
