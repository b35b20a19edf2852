/** @module What a direct preamble naming a session this callee holds no ticket for may cost: nothing without the node's contact ticket; with it, a short wait for the grant, then a node lookup within a per-source and a global budget. */

export interface UnknownSessionGateOptions {
  /** Whether the callee now holds a ticket for the session (the contact trigger may bring it meanwhile). */
  hasTicket(sessionId: string): boolean;
  /** Fetches pending grants from the node (GET /v1/sessions/pending), coalesced by the caller. */
  fetch(): Promise<void>;
  /**
   * Whether the preamble's contact ticket is the node's for this session (crypto/contact-ticket.ts, under this
   * device's secret) and its connectBy has not passed. Absent: every preamble counts as proven (tests).
   */
  proven?: (sessionId: string, contact: { connectBy: number; ticket: Uint8Array }) => boolean;
  /** How long to wait for the grant to arrive through the node's contact trigger before asking. */
  waitMs?: number;
  /** At most one lookup per source address in this period. */
  perSourceEveryMs?: number;
  /** At most one lookup for any unknown session in this period: far below the node's per-device bucket. */
  globalEveryMs?: number;
  now?: () => number;
}

const DEFAULT_WAIT_MS = 1000;
const DEFAULT_PER_SOURCE_EVERY_MS = 10_000;
const DEFAULT_GLOBAL_EVERY_MS = 2000;
const POLL_MS = 25;
/** Sources remembered at most; beyond it the oldest are forgotten (a flood of addresses cannot grow memory). */
const MAX_SOURCES = 4096;

/**
 * Issue 21 item 6. A preamble's session id is clear text that anyone can make up, so an unknown id must prove
 * itself before it costs anything: the node's contact ticket, an HMAC under a key of this device's secret over
 * the session id and connectBy, is checked first, locally; without it the connection is refused at once and
 * the node never hears of it. A proven id then waits briefly for the node's own contact trigger to deliver the
 * grant (the normal race between the caller's dial and the callee's fetch), and only then, within a
 * per-source and a global budget that strangers cannot spend, asks the node itself.
 */
export class UnknownSessionGate {
  readonly #o: UnknownSessionGateOptions;
  readonly #now: () => number;
  readonly #lastBySource = new Map<string, number>();
  #lastFetch = Number.NEGATIVE_INFINITY;
  /** Lookups made and refused, and preambles without a valid contact ticket, for tests and the log. */
  readonly stats = { fetched: 0, refused: 0, unproven: 0 };

  constructor(o: UnknownSessionGateOptions) {
    this.#o = o;
    this.#now = o.now ?? Date.now;
  }

  /**
   * Resolves once the ticket is there or the gate has done what it may; the listener then looks again. False
   * when the preamble proved nothing: the listener closes it without a log line (a flood must not flood the log).
   */
  async resolve(
    sessionId: string,
    source: string,
    contact: { connectBy: number; ticket: Uint8Array } = { connectBy: 0, ticket: new Uint8Array(0) },
  ): Promise<boolean> {
    if (this.#o.proven && !this.#o.proven(sessionId, contact)) {
      this.stats.unproven++;
      return false;
    }
    const until = this.#now() + (this.#o.waitMs ?? DEFAULT_WAIT_MS);
    while (!this.#o.hasTicket(sessionId) && this.#now() < until) await Bun.sleep(POLL_MS);
    if (this.#o.hasTicket(sessionId)) return true;
    if (!this.#admit(source)) {
      this.stats.refused++;
      return true;
    }
    this.stats.fetched++;
    await this.#o.fetch();
    return true;
  }

  #admit(source: string): boolean {
    const now = this.#now();
    const perSource = this.#o.perSourceEveryMs ?? DEFAULT_PER_SOURCE_EVERY_MS;
    const last = this.#lastBySource.get(source);
    if (last !== undefined && now - last < perSource) return false;
    if (now - this.#lastFetch < (this.#o.globalEveryMs ?? DEFAULT_GLOBAL_EVERY_MS)) return false;
    this.#lastFetch = now;
    this.#lastBySource.delete(source);
    this.#lastBySource.set(source, now);
    if (this.#lastBySource.size > MAX_SOURCES) {
      const oldest = this.#lastBySource.keys().next().value;
      if (oldest !== undefined) this.#lastBySource.delete(oldest);
    }
    return true;
  }
}
