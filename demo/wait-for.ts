/** @module waitFor: poll a condition until it holds or a deadline passes; the demo's and every test's one way to wait. */

export interface WaitForOptions {
  /** Give up after this long (default 10 s: generous on a busy 2-core box, far below a test's timeout). */
  timeoutMs?: number;
  /** Pause between checks (default 25 ms). */
  intervalMs?: number;
}

/** The default deadline of waitFor. */
export const DEFAULT_WAIT_MS = 10_000;

/**
 * Calls `check` until it returns something other than undefined, null or false, and resolves with that value;
 * rejects once `timeoutMs` has passed, naming `what`, so a failing run says which condition never came true.
 * A check that throws rejects at once: an error is not a "not yet".
 */
export async function waitFor<T>(
  what: string,
  check: () => T | undefined | null | false | Promise<T | undefined | null | false>,
  o: WaitForOptions = {},
): Promise<T> {
  const timeoutMs = o.timeoutMs ?? DEFAULT_WAIT_MS;
  const intervalMs = o.intervalMs ?? 25;
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== null && value !== false) return value;
    if (performance.now() >= deadline) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`);
    await Bun.sleep(intervalMs);
  }
}
