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

/**
 * When to ask the node next, for a lease ending at expiresAt. The caller asks for its extension at 70% of the
 * permitted duration, so the first question comes at 80% of what remains; if the lease has not moved yet, the
 * follower asks again at half of what is left (at least 100 ms apart) until the end.
 */
export function leaseCheckDelay(expiresAt: number, now: number, first: boolean): number {
  const remaining = expiresAt - now;
  if (remaining <= 0) return 0;
  return first ? remaining * 0.8 : Math.max(100, remaining / 2);
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
  let first = true;
  const arm = () => {
    if (stopped) return;
    timer = setTimeout(check, Math.min(leaseCheckDelay(known, now(), first), 2 ** 31 - 1));
    first = false;
    timer.unref?.();
  };
  const check = async () => {
    if (stopped) return;
    try {
      const s = await o.fetch();
      if (stopped) return;
      if (s.state !== "active") return;
      if (s.expiresAt > known) {
        known = s.expiresAt;
        o.onExtended(known);
        o.log("lease-extended", { expiresAt: new Date(known).toISOString() });
        first = true;
        arm();
      } else if (known - now() > 100) arm();
    } catch (err) {
      o.log("lease-check-failed", { message: (err as Error).message });
      if (known - now() > 100) arm();
    }
  };
  arm();
  return () => {
    stopped = true;
    if (timer) clearTimeout(timer);
  };
}
