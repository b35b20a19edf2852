/** @module The callee's view of a session lease: learns extensions the caller obtained, before the channel would expire. */

export interface LeaseFollowerOptions {
  expiresAt: number;
  /** GET /v1/sessions/:id: the node's current state of the lease. */
  fetch(): Promise<{ state: string; expiresAt: number }>;
  /** The lease moved (the caller asked POST .../extend): move the channel's expiry. */
  onExtended(expiresAt: number): void;
  log(event: string, fields: Record<string, unknown>): void;
  now?: () => number;
}

/** When to ask the node, for a lease ending at expiresAt: at 90% of the remaining time, at least 1 s before the end. */
export function leaseCheckDelay(expiresAt: number, now: number): number {
  const remaining = expiresAt - now;
  if (remaining <= 0) return 0;
  return Math.max(0, Math.min(remaining * 0.9, remaining - 1000));
}

/**
 * The node tells the caller about an extension (it asked), not the callee, whose direct channel would close
 * at the old expiry (DirectConnection.setExpiry). So shortly before the end the callee asks the node for the
 * session and, if the lease moved, follows it; it asks again before the new end. An ended session is left to
 * the `end` trigger; an unreachable node leaves the old expiry in force. Returns a stop function.
 */
export function followLease(o: LeaseFollowerOptions): () => void {
  const now = o.now ?? Date.now;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let stopped = false;
  let known = o.expiresAt;
  const arm = () => {
    if (stopped) return;
    timer = setTimeout(check, Math.min(leaseCheckDelay(known, now()), 2 ** 31 - 1));
    timer.unref?.();
  };
  const check = async () => {
    if (stopped) return;
    try {
      const s = await o.fetch();
      if (stopped) return;
      if (s.state === "active" && s.expiresAt > known) {
        known = s.expiresAt;
        o.onExtended(known);
        o.log("lease-extended", { expiresAt: new Date(known).toISOString() });
        arm();
      }
    } catch (err) {
      o.log("lease-check-failed", { message: (err as Error).message });
    }
  };
  arm();
  return () => {
    stopped = true;
    if (timer) clearTimeout(timer);
  };
}
