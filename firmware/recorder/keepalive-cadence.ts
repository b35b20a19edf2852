/** @module When to send the next keepalive and when the NAT mapping counts as lost: a pure state machine. */

export interface CadenceOptions {
  /** The configured interval (config keepaliveSeconds), in ms. */
  intervalMs: number;
  /** The shortest interval while answers are missing (default 5 s, the node's lower clamp). */
  floorMs?: number;
  /** Unanswered keepalives in a row after which the mapping counts as lost (default 3). */
  missLimit?: number;
}

/** What an answered keepalive changed. */
export interface AnswerOutcome {
  /** The first answer ever: the recorder must register. */
  first: boolean;
  /** The mapped address differs from the last one: the NAT (or the host) moved; re-register. */
  mappingChanged: boolean;
  /** Answers were missing for missLimit tries and are back: the node (or the path) returned; re-register. */
  recovered: boolean;
  /**
   * Same public address, new port: the NAT dropped the mapping between two keepalives (a datagram that arrived
   * after it died took the old port), so the interval is longer than the NAT's UDP timeout and was shortened.
   */
  expired: boolean;
  previous: string | undefined;
}

export const DEFAULT_CADENCE_FLOOR_MS = 5000;
export const DEFAULT_MISS_LIMIT = 3;

/**
 * Interval adaptation. While answers come, keepalives go every `intervalMs`. Each unanswered keepalive halves
 * the interval (down to `floorMs`): a mapping that is about to be lost, or a node that restarted, is noticed
 * and repaired within seconds instead of a whole configured interval, and a node that is really down gets at
 * most one small datagram per floor interval from each recorder. The first authenticated answer restores the
 * configured interval. `missLimit` misses in a row mark the mapping lost; the next answer reports `recovered`.
 *
 * Mapping expiry (issue 5): a NAT whose UDP timeout is shorter than the interval forgets the mapping between
 * keepalives, and the node's triggers die at the router. The recorder cannot see that directly, but a trigger
 * that hit the dead mapping leaves a router entry on its public port, so the next keepalive comes out on a
 * different port of the same address. Each such move halves the steady interval (down to the floor) for the
 * rest of the run; an address change (dynamic IP) is not an expiry and leaves it alone.
 */
export class KeepaliveCadence {
  readonly configuredMs: number;
  readonly floorMs: number;
  readonly missLimit: number;
  #currentMs: number;
  /** The interval while answers come: the configured one, halved by each detected expiry. */
  #steadyMs: number;
  #misses = 0;
  #lost = false;
  #mapped: string | undefined;

  constructor(o: CadenceOptions) {
    this.configuredMs = o.intervalMs;
    this.floorMs = Math.min(o.floorMs ?? DEFAULT_CADENCE_FLOOR_MS, o.intervalMs);
    this.missLimit = o.missLimit ?? DEFAULT_MISS_LIMIT;
    if (!(this.configuredMs > 0) || !(this.floorMs > 0)) {
      throw new RangeError(`Cannot use keepalive interval ${o.intervalMs} ms (floor ${o.floorMs} ms)`);
    }
    if (!Number.isInteger(this.missLimit) || this.missLimit < 1) {
      throw new RangeError(`Cannot use keepalive miss limit ${o.missLimit}: not a positive integer`);
    }
    this.#currentMs = this.configuredMs;
    this.#steadyMs = this.configuredMs;
  }

  /** Time until the next keepalive. */
  get intervalMs(): number {
    return this.#currentMs;
  }

  get misses(): number {
    return this.#misses;
  }

  /** True from missLimit misses in a row until the next answer. */
  get lost(): boolean {
    return this.#lost;
  }

  get mapped(): string | undefined {
    return this.#mapped;
  }

  /** How long to wait for one keepalive's answer before counting it as missed. */
  get answerTimeoutMs(): number {
    return Math.min(3000, this.#currentMs);
  }

  /** An authenticated answer reported `mapped` ("address:port"). */
  answered(mapped: string): AnswerOutcome {
    const previous = this.#mapped;
    const mappingChanged = previous !== undefined && previous !== mapped;
    const expired = mappingChanged && hostOf(previous) === hostOf(mapped);
    const outcome: AnswerOutcome = {
      first: previous === undefined,
      mappingChanged,
      recovered: this.#lost,
      expired,
      previous,
    };
    if (expired) this.#steadyMs = Math.max(this.floorMs, Math.floor(this.#steadyMs / 2));
    this.#mapped = mapped;
    this.#misses = 0;
    this.#lost = false;
    this.#currentMs = this.#steadyMs;
    return outcome;
  }

  /** The interval answers keep: the configured one unless expiries shortened it. */
  get steadyMs(): number {
    return this.#steadyMs;
  }

  /** A keepalive went unanswered; returns true exactly when this miss makes the mapping count as lost. */
  missed(): boolean {
    this.#misses++;
    this.#currentMs = Math.max(this.floorMs, Math.floor(this.#currentMs / 2));
    if (!this.#lost && this.#misses >= this.missLimit) {
      this.#lost = true;
      return true;
    }
    return false;
  }
}

/** "203.0.113.5:40000" -> "203.0.113.5"; "[2001:db8::1]:5" and "2001:db8::1:5" -> the part before the last colon. */
function hostOf(mapped: string): string {
  return mapped.slice(0, mapped.lastIndexOf(":"));
}
