/** @module A foreground daemon's lifetime: its data directory's PID lock, and the stop signal it waits for. */
import { PidLock } from "./pid-lock.ts";

/** Holds the lock until disposed; `stopped` resolves with the first SIGTERM or SIGINT. */
export class DaemonLifetime implements Disposable {
  readonly #lock: PidLock;
  readonly stopped: Promise<string>;

  private constructor(lock: PidLock) {
    this.#lock = lock;
    // Listening from the start: a stop signal during startup must still release the lock, not kill the
    // process (Bun installs a handler only once the event loop runs).
    this.stopped = new Promise<string>((resolve) => {
      process.once("SIGTERM", () => resolve("SIGTERM"));
      process.once("SIGINT", () => resolve("SIGINT"));
    });
  }

  /** Takes `lockFile` for `what` (ERR_ALREADY_RUNNING when a live daemon holds it; `stop` names the way out). */
  static begin(lockFile: string, what: string, stop: string): DaemonLifetime {
    return new DaemonLifetime(
      PidLock.acquire(lockFile, what, `stop it first ('${stop}') or give another --data`),
    );
  }

  [Symbol.dispose](): void {
    this.#lock.release();
  }
}
