/** @module Reconnect delays: exponential backoff with jitter, so a fleet of recorders does not return in lockstep. */

export interface BackoffOptions {
  /** Delay before the first retry. */
  baseMs?: number;
  /** Upper bound of any delay. */
  maxMs?: number;
  /** A uniform random number in [0, 1); injectable so tests can pin the jitter. */
  random?: () => number;
}

export const DEFAULT_BACKOFF_BASE_MS = 1000;
/** A node that is down for long is asked about once a minute per recorder. */
export const DEFAULT_BACKOFF_MAX_MS = 60_000;

/**
 * The delay before retry number `attempt` (0 = first retry): "equal jitter" (half the exponential step fixed,
 * half random), which keeps a floor under every delay while still spreading a fleet that lost the node at the
 * same moment (a node restart) over the whole window instead of hitting it together.
 */
export function backoffDelay(attempt: number, o: BackoffOptions = {}): number {
  if (!Number.isInteger(attempt) || attempt < 0) {
    throw new RangeError(`Cannot compute backoff: attempt ${attempt} is not a non-negative integer`);
  }
  const base = o.baseMs ?? DEFAULT_BACKOFF_BASE_MS;
  const max = o.maxMs ?? DEFAULT_BACKOFF_MAX_MS;
  if (!(base > 0) || !(max >= base)) {
    throw new RangeError(`Cannot compute backoff: base ${base} ms and max ${max} ms are not 0 < base <= max`);
  }
  // 2^attempt overflows to Infinity long after it passed max; min() keeps the result finite.
  const step = Math.min(max, base * 2 ** Math.min(attempt, 52));
  const r = (o.random ?? Math.random)();
  return Math.round(step / 2 + (step / 2) * Math.min(Math.max(r, 0), 1));
}
