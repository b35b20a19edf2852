/** @module The named deadlines of one direct connection (frame, handshake, lease expiry): one timer each, cleared together. */

/** setTimeout holds a signed 32-bit delay: a longer one would fire at once, so delays are clamped to this. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

export type DeadlineName = "frame" | "handshake" | "expiry";

/** At most one pending timer per name; setting a name again replaces its timer, and clearAll() ends every one. */
export class ConnectionDeadlines {
  readonly #timers = new Map<DeadlineName, ReturnType<typeof setTimeout>>();

  /** Whether `name` is armed and has not fired or been cleared. */
  has(name: DeadlineName): boolean {
    return this.#timers.has(name);
  }

  /** Calls onDue once delayMs (clamped to 0..MAX_TIMER_MS) has passed, unless cleared or set again first. */
  set(name: DeadlineName, delayMs: number, onDue: () => void): void {
    this.clear(name);
    const delay = Math.max(0, Math.min(delayMs, MAX_TIMER_MS));
    const timer = setTimeout(() => {
      this.#timers.delete(name);
      onDue();
    }, delay);
    this.#timers.set(name, timer);
  }

  clear(name: DeadlineName): void {
    const timer = this.#timers.get(name);
    if (timer) clearTimeout(timer);
    this.#timers.delete(name);
  }

  clearAll(): void {
    for (const timer of this.#timers.values()) clearTimeout(timer);
    this.#timers.clear();
  }
}
